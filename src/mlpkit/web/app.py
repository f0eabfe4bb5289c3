"""The Starlette application of ``mlpkit serve``: pages, JSON endpoints and the run event streams.

Pages (plain HTML + JS from ``static/``): ``/`` (index), ``/slowdown``, ``/softmax``, ``/dashboard``, ``/draw``,
``/playground``, ``/graph``.

JSON endpoints (errors are ``{"error": "<what was wrong>"}`` with a 4xx status):

=========================================  =========================================================
``GET  /api/health``                       ``{"status": "ok", "version": ...}``
``GET  /vendor/plotly.min.js``             the charting library, served from the installed ``plotly`` package
``POST /api/neuron``                       the learning-slowdown neuron (:mod:`.neuron`) for w, b, eta, cost...
``POST /api/graph``                        the lecture's computation graph (:mod:`.graph`): nodes, steps, SVG
``GET  /api/models``                       models for the draw page (:mod:`.models`)
``POST /api/models?name=FILE``             upload a model file as the raw body (size-limited)
``POST /api/predict``                      ``{"model": id, "pixels": [[...]]}`` -> class probabilities
``GET  /api/options``                      the run form's option table: choices, defaults, each optimizer's rate
``GET  /api/runs``                         all runs, newest first, and the run directories that did not read
``POST /api/runs``                         start a run (settings as ``mlpkit train``'s options)
``GET  /api/runs/{id}``                    one run's summary (with its progress in the epoch) and events
``POST /api/runs/{id}/stop``               ask a run to stop after its current epoch
``GET  /api/runs/{id}/events``             server-sent events of the run, from the first (or Last-Event-ID);
                                           ``event: progress`` messages (no id) give the epoch's batches done
``POST /api/runs/attach``                  ``mlpkit train --dashboard``: register a run
``POST /api/runs/{id}/events``             ``mlpkit train --dashboard``: one epoch or the end
``GET  /api/playground/options``           the playground's choices, limits and course presets (:mod:`.playground`)
``POST /api/playground``                   open a playground session: data set + network + training settings
``GET  /api/playground/{id}?since=N``      a session's state: history after epoch N, gradient norms, boundary
``POST /api/playground/{id}/step``         ``{"epochs": k}``: train up to k more epochs (time-limited)
``POST /api/playground/{id}/reset``        back to epoch 0 with the same initial weights
``DELETE /api/playground/{id}``            close a session
=========================================  =========================================================

Every request first passes :class:`._guard.Guard` (Host, Origin, Content-Type and, off loopback, the access
token); every malformed request gets a 4xx with ``{"error": "<one line>"}``, never a 500. Limits on work at
once: :data:`MAX_STREAMS` event streams and :data:`MAX_UPLOADING` uploads (429 beyond), the runs' and
playground's own (:mod:`.runs`, :mod:`.playground`), and the stored models' (:mod:`.models`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import __version__
from ._guard import Guard, allowed_hosts
from ._requests import BadRequest, check_keys, choice, event_number, integer, number, read_body, read_json, shown
from .digit import PREPROCESSORS
from .graph import DEFAULTS as GRAPH_DEFAULTS
from .graph import LIMITS as GRAPH_LIMITS
from .graph import graph_payload
from .models import ModelRegistry
from .neuron import COSTS, train_neuron
from .playground import Playground
from .playground import routes as playground_routes
from .runs import RunFull, RunManager, run_config, run_options

STATIC = Path(__file__).parent / "static"
PAGES = {"/": "index.html", "/slowdown": "slowdown.html", "/softmax": "softmax.html", "/dashboard": "dashboard.html",
         "/draw": "draw.html", "/playground": "playground.html", "/graph": "graph.html"}
#: default limit of an uploaded model file
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: largest drawing accepted (pixels per side)
MAX_DRAWING_SIDE = 1024
#: seconds between checks for new events, and between keep-alive comments, in an event stream
POLL_S, KEEPALIVE_S = 0.1, 15.0
#: event streams open at once, and model uploads being read and checked at once (429 beyond)
MAX_STREAMS, MAX_UPLOADING = 32, 2


def _page(name: str):
    async def page(request: Request) -> Response:
        return FileResponse(STATIC / name, media_type="text/html")
    return page


def _app_state(request: Request) -> tuple[ModelRegistry, RunManager]:
    return request.app.state.models, request.app.state.runs


# ------------------------------------------------------------------------------------------ demos
def plotly_script() -> Path | None:
    """plotly.js as the ``plotly`` Python package ships it (a dependency of ``mlpkit[web]``), or None."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


async def plotly_js(request: Request) -> Response:
    path = plotly_script()
    if path is None:
        return JSONResponse({"error": "the charts need the plotly package: pip install 'mlpkit[web]'"},
                            status_code=404)
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


async def neuron(request: Request) -> Response:
    body = await read_json(request)
    check_keys(body, ("w", "b", "eta", "cost", "epochs", "x", "y"))
    args = {"w": number(body, "w", 2.0, -20, 20), "b": number(body, "b", 2.0, -20, 20),
            "eta": number(body, "eta", 0.15, 1e-6, 10), "cost": choice(body, "cost", "quadratic", tuple(COSTS)),
            "epochs": integer(body, "epochs", 300, 1, 5000), "x": number(body, "x", 1.0, -10, 10),
            "y": number(body, "y", 0.0, 0, 1)}
    return JSONResponse({"settings": args, **await run_in_threadpool(lambda: train_neuron(**args))})


async def graph(request: Request) -> Response:
    body = await read_json(request)
    check_keys(body, ("example", *GRAPH_LIMITS))
    args: dict[str, Any] = {"example": choice(body, "example", GRAPH_DEFAULTS["example"], ("two-layer", "logistic"))}
    args.update({key: integer(body, key, GRAPH_DEFAULTS[key], low, high) for key, (low, high) in GRAPH_LIMITS.items()})
    return JSONResponse({"settings": args, **await run_in_threadpool(lambda: graph_payload(**args))})


# ------------------------------------------------------------------------------------------ models
async def list_models(request: Request) -> Response:
    models, _ = _app_state(request)
    return JSONResponse({"models": await run_in_threadpool(models.list)})


async def upload_model(request: Request) -> Response:
    models, _ = _app_state(request)
    uploading: threading.BoundedSemaphore = request.app.state.uploading
    if not uploading.acquire(blocking=False):
        raise BadRequest(f"{MAX_UPLOADING} uploads are being checked; try again in a moment", 429)
    try:
        data = await read_body(request, request.app.state.max_upload, "the model file")
        if not data:
            raise BadRequest("the upload is empty: send the .mlpk file as the request body")
        try:
            entry = await run_in_threadpool(models.add_upload, request.query_params.get("name", "upload.mlpk"), data)
        except MemoryError:
            raise BadRequest("not a usable mlpkit model file: it does not fit in memory", 413) from None
        except Exception as exc:  # a corrupt zip fails in many ways (BadZipFile, EOFError, zlib.error...)
            text = " ".join(str(exc).split()).replace(str(models.upload_dir), "<upload>")[:300]
            raise BadRequest(f"not a usable mlpkit model file: {text or type(exc).__name__}") from None
    finally:
        uploading.release()
    return JSONResponse(entry.describe(), status_code=201)


def _drawing(body: dict[str, Any]) -> np.ndarray:
    pixels = body.get("pixels")
    if not isinstance(pixels, list) or not pixels or not all(isinstance(row, list) for row in pixels):
        raise BadRequest("pixels must be a 2-D array (a list of rows of numbers in [0, 1])")
    if len(pixels) > MAX_DRAWING_SIDE or any(len(row) > MAX_DRAWING_SIDE for row in pixels):
        raise BadRequest(f"the drawing may be at most {MAX_DRAWING_SIDE} x {MAX_DRAWING_SIDE} pixels")
    if len({len(row) for row in pixels}) != 1 or not pixels[0]:
        raise BadRequest("pixels must be a rectangular 2-D array: every row of the same, non-zero length")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for row in pixels for v in row):
        raise BadRequest("pixels must hold numbers only")
    image = np.array(pixels, dtype=np.float64)
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise BadRequest(f"pixel values must be in [0, 1], found {image.min():g} to {image.max():g}")
    return image


async def predict(request: Request) -> Response:
    models, _ = _app_state(request)
    body = await read_json(request)
    check_keys(body, ("model", "pixels"))
    entry = models.get(str(body.get("model", "")))
    if entry is None:
        raise BadRequest(f"no model {shown(str(body.get('model')))}; GET /api/models lists them", 404)
    image = _drawing(body)

    def classify() -> dict[str, Any]:
        network = entry.load()
        prepare = PREPROCESSORS.get(network.input_dim)
        if prepare is None or not network.is_classifier or network.output_dim < 2:
            raise BadRequest(f"model {entry.name} takes {network.input_dim} inputs and gives {network.output_dim} "
                             "outputs; a drawing makes 784 (28x28) or 64 (8x8) inputs for a classifier")
        try:
            digit = prepare(image)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        probabilities = network.predict_proba(digit.reshape(1, -1))[0].astype(np.float64)
        return {"model": entry.id, "probabilities": probabilities.tolist(), "prediction": int(probabilities.argmax()),
                "input": {"shape": list(digit.shape), "pixels": np.round(digit, 4).tolist()}}

    return JSONResponse(await run_in_threadpool(classify))


# ------------------------------------------------------------------------------------------ runs
def _run(request: Request):
    _, runs = _app_state(request)
    run = runs.get(request.path_params["run_id"])
    if run is None:
        raise BadRequest(f"no run {shown(request.path_params['run_id'])}; GET /api/runs lists them", 404)
    return run


async def options(request: Request) -> Response:
    return JSONResponse(run_options())


async def list_runs(request: Request) -> Response:
    _, runs = _app_state(request)
    return JSONResponse({"runs": runs.list(), "skipped": runs.skipped})


async def start_run(request: Request) -> Response:
    _, runs = _app_state(request)
    body = await read_json(request)
    try:
        cfg = run_config(body)
    except ValueError as exc:
        raise BadRequest(" ".join(str(exc).split())) from None
    try:
        run = runs.start(cfg)
    except RuntimeError as exc:
        raise BadRequest(str(exc), 409) from None
    except OSError as exc:
        return JSONResponse({"error": f"cannot make the run's directory under --runs: {exc.strerror or exc}"},
                            status_code=503)
    return JSONResponse(run.summary(), status_code=201)


async def get_run(request: Request) -> Response:
    run = _run(request)
    return JSONResponse({**run.summary(), "events": run.events_from(0)})


async def stop_run(request: Request) -> Response:
    run = _run(request)
    run.stop_requested.set()
    return JSONResponse(run.summary())


async def attach_run(request: Request) -> Response:
    _, runs = _app_state(request)
    body = await read_json(request)
    try:
        run = runs.attach(body)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return JSONResponse({"id": run.id}, status_code=201)


async def report_event(request: Request) -> Response:
    run = _run(request)
    body = await read_json(request)
    try:
        RunManager.report(run, body)
    except RunFull as exc:
        raise BadRequest(str(exc), 409) from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return JSONResponse({"stop": run.stop_requested.is_set()})


async def stream_events(request: Request) -> Response:
    run = _run(request)
    last = event_number(request.headers.get("last-event-id"), "Last-Event-ID")
    given = event_number(request.query_params.get("from"), "from")
    start = last + 1 if last is not None else given + 1 if given is not None else 0
    streams: list[int] = request.app.state.streams
    if streams[0] >= MAX_STREAMS:
        raise BadRequest(f"{MAX_STREAMS} event streams are open; close a page or try again later", 429)
    streams[0] += 1  # the event loop is one thread: no lock needed

    async def events() -> AsyncIterator[str]:
        try:
            async for message in _messages(run, start):
                yield message
        finally:
            streams[0] -= 1

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _messages(run: Any, start: int) -> AsyncIterator[str]:
    """The event stream of ``run`` from event ``start``: its events, progress messages and keep-alives."""
    index, quiet, shown = start, 0.0, None
    yield "retry: 2000\n\n"
    while True:
        fresh = run.events_from(index)
        for event in fresh:
            yield f"id: {index}\ndata: {json.dumps(event, allow_nan=False)}\n\n"
            index += 1
            if event["type"] == "end":
                return
        if not fresh and run.finished:  # a finished run has all its events: a reader past them is done
            return
        progress = run.progress()
        if progress is not None and progress != shown:
            yield f"event: progress\ndata: {json.dumps(progress)}\n\n"
            shown, quiet = progress, 0.0
        if fresh:
            quiet = 0.0
        elif quiet >= KEEPALIVE_S:
            yield ": keep-alive\n\n"
            quiet = 0.0
        await asyncio.sleep(POLL_S)
        quiet += POLL_S


# ------------------------------------------------------------------------------------------ app
async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return JSONResponse({"error": exc.message}, status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": f"{exc.detail}: {request.method} {request.url.path}"}, status_code=exc.status_code)


def create_app(*, models_dir: str | Path | None = None, max_upload: int = MAX_UPLOAD_BYTES,
               upload_dir: str | Path | None = None, runs_dir: str | Path | None = None, host: str = "127.0.0.1",
               port: int | None = None, token: str | None = None, allow_hosts: Sequence[str] = ()) -> Starlette:
    """The app. ``models_dir``: directory of ``.mlpk`` files for the draw page; ``max_upload``: largest model
    upload in bytes; ``upload_dir``: where uploads are kept (default: a new temporary directory); ``runs_dir``:
    the runs root, where the dashboard keeps its runs and whose runs it lists from the start (created on the
    first run; default None: runs are kept in memory only). ``host`` and ``port``: the address the server is
    bound to, which the Host (and Origin) of every request must name (port None: any port); ``allow_hosts``:
    more names it answers to (``NAME`` or ``NAME:PORT``, as ``mlpkit serve --allow-host``); ``token``: the
    access token every request must carry (None: none), see :mod:`._guard`."""
    if models_dir is not None and not Path(models_dir).is_dir():
        raise ValueError(f"--models {models_dir} is not a directory")
    if runs_dir is not None and Path(runs_dir).exists() and not Path(runs_dir).is_dir():
        raise ValueError(f"--runs {runs_dir} is a file; give a directory")
    if isinstance(max_upload, bool) or not isinstance(max_upload, int) or max_upload < 1:
        raise ValueError(f"the upload limit must be a positive number of bytes, got {max_upload!r}")
    hosts = allowed_hosts(host, allow_hosts)
    routes = [Route(path, _page(name)) for path, name in PAGES.items()]
    routes += [
        Route("/api/health", health),
        Route("/vendor/plotly.min.js", plotly_js),
        Route("/api/neuron", neuron, methods=["POST"]),
        Route("/api/graph", graph, methods=["POST"]),
        Route("/api/models", list_models, methods=["GET"]),
        Route("/api/models", upload_model, methods=["POST"]),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/options", options, methods=["GET"]),
        Route("/api/runs", list_runs, methods=["GET"]),
        Route("/api/runs", start_run, methods=["POST"]),
        Route("/api/runs/attach", attach_run, methods=["POST"]),
        Route("/api/runs/{run_id}", get_run, methods=["GET"]),
        Route("/api/runs/{run_id}/stop", stop_run, methods=["POST"]),
        Route("/api/runs/{run_id}/events", stream_events, methods=["GET"]),
        Route("/api/runs/{run_id}/events", report_event, methods=["POST"]),
        *playground_routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    own_uploads = upload_dir is None
    uploads = Path(tempfile.mkdtemp(prefix="mlpkit-serve-")) if own_uploads else Path(upload_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        app.state.runs.stop_all()  # threads are daemons; this lets them end at their next epoch
        if own_uploads:
            shutil.rmtree(uploads, ignore_errors=True)

    guard = Middleware(Guard, hosts=hosts, port=port, token=token)
    app = Starlette(routes=routes, exception_handlers={BadRequest: _bad_request, HTTPException: _http_error},
                    lifespan=lifespan, middleware=[guard])
    app.state.models = ModelRegistry(None if models_dir is None else Path(models_dir), uploads)
    app.state.runs = RunManager(app.state.models, None if runs_dir is None else Path(runs_dir))
    app.state.runs.load_saved()
    app.state.max_upload = max_upload
    app.state.playground = Playground()
    app.state.streams = [0]
    app.state.uploading = threading.BoundedSemaphore(MAX_UPLOADING)
    return app
