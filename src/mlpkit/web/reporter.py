"""``mlpkit train --dashboard URL``: a callback that posts each epoch to a running ``mlpkit serve``.

Protocol (JSON over HTTP POST, standard library ``urllib`` only, so no web extra is needed):

1. ``POST URL/api/runs/attach`` with ``{"name", "epochs", "settings"}`` answers ``{"id": ...}``;
2. after every epoch, ``POST URL/api/runs/<id>/events`` with an epoch event (:mod:`mlpkit.web.epochs`)
   answers ``{"stop": bool}``; ``true`` (the page's stop button) ends training after that epoch;
3. at the end, ``POST URL/api/runs/<id>/events`` with ``{"type": "end", "status", "message", ...}``.

A server started with a ``--host`` other than loopback needs its access token: give the address it printed,
``http://HOST:PORT/?token=TOKEN``; the token is sent as ``Authorization: Bearer TOKEN``. A server that has
dropped the run (too many attached runs, too many epochs) answers 404 or 409, which ends the reporting.

The dashboard is a spectator: if the server is not there, answers with an error, is slow (2 s timeout) or
anything in the reporting fails, the callback prints one warning and stays silent for the rest of the run.
Training is never interrupted by it.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from ..callbacks import Callback
from .epochs import EpochSummary

if TYPE_CHECKING:
    from ..history import History
    from ..network import Network

TIMEOUT_S = 2.0


def check_dashboard_url(url: str) -> str:
    """The server's base URL without a trailing slash, with ``?token=...`` when given; ValueError unless it is
    http(s)://host[:port][/path][?token=TOKEN]."""
    parts = urlsplit(str(url).strip())
    query = parse_qsl(parts.query, keep_blank_values=True)
    if (parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment
            or any(key != "token" or not value for key, value in query) or len(query) > 1):
        raise ValueError(f"--dashboard must be the address of a running mlpkit serve, e.g. http://127.0.0.1:8000 "
                         f"(with ?token=... when it printed one); got {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}" + (f"?token={query[0][1]}" if query else "")


def _split_token(url: str) -> tuple[str, str | None]:
    """(base URL, token or None) of a URL checked by :func:`check_dashboard_url`."""
    base, _, query = url.partition("?")
    return base, dict(parse_qsl(query)).get("token")


class DashboardReporter(Callback):
    """Posts the run's epochs to the dashboard at ``url``.

    Args:
        url: the server, e.g. ``http://127.0.0.1:8000``.
        name: how the run is listed on the page.
        epochs: the run's total number of epochs.
        settings: the run's settings (shown on the page).
        validation: (X, y) of the validation split, for the gradient norms and the misclassified images;
            None sends the costs and accuracies only.
        image_shape: (height, width) of an input row that is an image, else None.
        epoch_offset: epochs done before this call of fit (a resumed run).
        stream: where the one warning goes (default standard error).
    """

    def __init__(self, url: str, *, name: str, epochs: int, settings: dict[str, Any] | None = None,
                 validation: tuple[np.ndarray, np.ndarray] | None = None, image_shape: tuple[int, int] | None = None,
                 epoch_offset: int = 0, stream: TextIO | None = None) -> None:
        self.url, self.token = _split_token(check_dashboard_url(url))
        self.name = name
        self.epochs = epochs
        self.settings = settings or {}
        self.validation = validation
        self.image_shape = image_shape
        self.epoch_offset = epoch_offset
        self.stream = stream
        self.run_id: str | None = None
        self.failed = False
        self._summary: EpochSummary | None = None

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(payload, allow_nan=False, default=str).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=data, method="POST", headers=headers)
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            answer = json.loads(response.read() or b"{}")
        return answer if isinstance(answer, dict) else {}

    def _give_up(self, exc: BaseException) -> None:
        self.failed = True
        if isinstance(exc, urllib.error.HTTPError):
            try:
                detail = json.loads(exc.read()).get("error", "")
            except (ValueError, AttributeError, OSError):
                detail = ""
            reason = f"HTTP {exc.code} {detail}".strip()
        else:
            reason = " ".join(str(getattr(exc, "reason", exc)).split())
        print(f"mlpkit: warning: dashboard {self.url} unavailable ({reason}); training goes on without it",
              file=self.stream or sys.stderr, flush=True)

    def on_train_begin(self, network: Network, history: History) -> None:
        super().on_train_begin(network, history)
        self._history = history
        try:
            if self.validation is not None:
                self._summary = EpochSummary(*self.validation, self.image_shape)
            answer = self._post("/api/runs/attach", {"name": self.name, "epochs": self.epochs,
                                                     "settings": self.settings})
            self.run_id = str(answer["id"])
        except Exception as exc:  # the dashboard must never break training
            self._give_up(exc)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.failed or self.run_id is None:
            return
        try:
            epoch += self.epoch_offset
            if self._summary is not None:
                event = self._summary.event(self.network, epoch, logs)
            else:
                event = {"type": "epoch", "epoch": epoch + 1, "logs": dict(logs), "gradients": [],
                         "misclassified": None}
            answer = self._post(f"/api/runs/{self.run_id}/events", event)
        except Exception as exc:
            self._give_up(exc)
            return
        if answer.get("stop") is True:
            self.network.stop_training = True
            self._history.stop_reason = "stopped from the dashboard"

    def on_train_end(self, history: History) -> None:
        if self.failed or self.run_id is None:
            return
        reason = history.stop_reason
        if reason == "completed" and len(history) < history.params.get("epochs", 0):
            reason = "interrupted"  # fit ended by an exception (Ctrl-C): its finally block calls us
        status = {"completed": "completed", "diverged": "diverged"}.get(reason, "stopped")
        message = history.message if history.diverged else reason
        try:
            self._post(f"/api/runs/{self.run_id}/events", {"type": "end", "status": status, "message": message})
        except Exception as exc:
            self._give_up(exc)
