"""``mlpkit serve``: start the local web app (:mod:`mlpkit.web`) with uvicorn.

Binds 127.0.0.1 unless ``--host`` says otherwise: the app runs training jobs and loads model files on
request, so it is meant for the user's own machine. Needs the ``web`` extra (starlette, uvicorn).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

#: modules ``mlpkit serve`` needs (the ``web`` extra; plotly draws the charts)
WEB_MODULES = ("starlette", "uvicorn", "plotly")


def serve(host: str, port: int, models: Path | None, max_upload_mb: float, runs: Path | None = None) -> int:
    """Run the server until Ctrl-C; usage errors (missing extra, bad directory) as click.UsageError."""
    missing = [m for m in WEB_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise click.UsageError(f"mlpkit serve needs the web extra: pip install 'mlpkit[web]' "
                               f"(missing: {', '.join(missing)})")
    import uvicorn

    from ..web.app import create_app

    try:
        app = create_app(models_dir=models, max_upload=int(max_upload_mb * 1024 * 1024), runs_dir=runs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"mlpkit serve: http://{shown}:{port}/  (pages: slowdown, softmax, dashboard, draw, playground, "
               "graph; Ctrl-C stops)")
    if models is not None:
        click.echo(f"models from {models}")
    if runs is not None:
        listed, skipped = len(app.state.runs.list()), len(app.state.runs.skipped)
        click.echo(f"runs kept in {runs}: {listed} listed" + (f", {skipped} unreadable skipped" if skipped else ""))
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
    return 0
