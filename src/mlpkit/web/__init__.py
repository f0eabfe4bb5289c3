"""``mlpkit serve``: a local web app that shows networks learning (needs ``pip install 'mlpkit[web]'``).

Four pages, each a plain HTML file with its own small script under ``static/``:

1. **Learning slowdown** (Nielsen ch.3, "The cross-entropy cost function"): one sigmoid neuron learns to
   turn input 1 into output 0. From a bad start (w = 2, b = 2) the quadratic cost learns slowly because
   its gradient carries sigma'(z) (eq. (55)-(56)); cross-entropy does not (eq. (61)). The curves come from
   the server (:mod:`.neuron`), computed with mlpkit's own ``Dense`` layer, costs and SGD.
2. **Softmax explorer** (ch.3, "Softmax"): sliders for z1..z4 and a scale c; softmax(c z) always sums to 1,
   c -> infinity gives hardmax, and with two classes softmax is the logistic function of z1 - z2.
3. **Live training dashboard**: runs started from the page (:mod:`.runs`, one background thread each) or
   posted by ``mlpkit train --dashboard URL`` (:mod:`.reporter`), streamed to the page with server-sent
   events: costs, accuracies, per-layer gradient norms, misclassified validation images (:mod:`.epochs`).
4. **Draw a digit**: the drawing is preprocessed like MNIST (:mod:`.digit`) and classified by a model
   loaded only through :func:`mlpkit.load_network` (:mod:`.models`).

Design choices:

- **Starlette + uvicorn**: a small, well-kept ASGI stack; Starlette gives routing, static files,
  streaming responses (for server-sent events) and a test client, which is all the app needs. FastAPI
  would add pydantic and a schema layer for a dozen endpoints whose inputs are checked by hand anyway,
  with messages in the house style (:mod:`._requests`).
- **Charts drawn by our own SVG code** (``static/charts.js``, about 200 lines) rather than a bundled npm
  charting library: the pages need line charts and bar charts only; our code needs no build step, no
  minified third-party blob and licence in the repository, and it stamps every drawn series with its
  number of points (``data-points``), which the browser tests read.
- **Server-sent events** rather than websockets: the stream is one-way (server to page) and SSE is plain
  HTTP that the browser reconnects by itself; the few page-to-server actions (start, stop) are POSTs.
- **Threads** for training runs: NumPy releases the GIL in its matrix products, so the server stays
  responsive; a run's failure is caught in its thread and reported as the run's status.
- Uploads (models) are raw request bodies with a size limit, not multipart forms: one dependency less.

Nothing here is imported by ``import mlpkit``; :mod:`.reporter` uses the standard library only, so
``mlpkit train --dashboard`` works without the ``web`` extra.
"""
