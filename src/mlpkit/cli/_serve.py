"""``mlpkit serve``: start the local web app (:mod:`mlpkit.web`) with uvicorn.

Binds 127.0.0.1 unless ``--host`` says otherwise: the app runs training jobs and loads model files on
request, so it is meant for the user's own machine. Every request must name the bound address in its Host
header and, from a browser, come from the server's own pages (:mod:`mlpkit.web._guard`). With a ``--host``
that is not a loopback address, or an ``--allow-host`` name that is not (the server is then reached from
other machines, directly or through a reverse proxy), the server makes an access token, prints the address
with ``?token=...``, and every request must carry the token (the printed address sets it as a cookie;
``mlpkit train --dashboard URL?token=...`` and scripts send it as ``Authorization: Bearer``). Needs the
``web`` extra (starlette, uvicorn).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import click

#: modules ``mlpkit serve`` needs (the ``web`` extra; plotly draws the charts)
WEB_MODULES = ("starlette", "uvicorn", "plotly")
#: connections served at once (uvicorn answers 503 beyond), seconds an idle keep-alive connection stays open
MAX_CONNECTIONS, KEEP_ALIVE_S = 64, 5


def serve(host: str, port: int, models: Path | None, max_upload_mb: float, runs: Path | None = None,
          allow_hosts: Sequence[str] = ()) -> int:
    """Run the server until Ctrl-C; usage errors (missing extra, bad directory) as click.UsageError."""
    missing = [m for m in WEB_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise click.UsageError(f"mlpkit serve needs the web extra: pip install 'mlpkit[web]' "
                               f"(missing: {', '.join(missing)})")
    import uvicorn

    from ..web._guard import needs_token, new_token
    from ..web.app import create_app

    token = new_token() if needs_token(host, allow_hosts) else None
    try:
        app = create_app(models_dir=models, max_upload=int(max_upload_mb * 1024 * 1024), runs_dir=runs,
                         host=host, port=port, token=token, allow_hosts=allow_hosts)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"mlpkit serve: {address}  (pages: slowdown, softmax, dashboard, draw, playground, graph; "
               "Ctrl-C stops)")
    if allow_hosts:
        click.echo(f"also answers to {', '.join(allow_hosts)}")
    if token:
        exposed = "the server" if allow_hosts else f"--host {host}"
        click.echo(f"{exposed} is reachable from other machines: every request needs the access token above (open "
                   "that address; scripts send Authorization: Bearer TOKEN)")
    if models is not None:
        click.echo(f"models from {models}")
    if runs is not None:
        listed, skipped = len(app.state.runs.list()), len(app.state.runs.skipped)
        click.echo(f"runs kept in {runs}: {listed} listed" + (f", {skipped} unreadable skipped" if skipped else ""))
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2,
                limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=KEEP_ALIVE_S, server_header=False)
    return 0
