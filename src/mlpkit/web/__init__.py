"""``mlpkit serve``: a local web app that shows networks learning (needs ``pip install 'mlpkit[web]'``).

Six pages, each a plain HTML file with its own small script under ``static/``:

1. **Learning slowdown** (Nielsen ch.3, "The cross-entropy cost function"): one sigmoid neuron learns to
   turn input 1 into output 0. From a bad start (w = 2, b = 2) the quadratic cost learns slowly because
   its gradient carries sigma'(z) (eq. (55)-(56)); cross-entropy does not (eq. (61)). The curves come from
   the server (:mod:`.neuron`), computed with mlpkit's own ``Dense`` layer, costs and SGD.
2. **Softmax explorer** (ch.3, "Softmax"): sliders for z1..z4 and a scale c; softmax(c z) always sums to 1,
   c -> infinity gives hardmax, and with two classes softmax is the logistic function of z1 - z2.
3. **Live training dashboard**: runs started from the page (:mod:`.runs`, one background thread each) or
   posted by ``mlpkit train --dashboard URL`` (:mod:`.reporter`), streamed to the page with server-sent
   events: progress within the epoch, costs, accuracies, per-layer gradient norms, misclassified validation
   images (:mod:`.epochs`). Runs are kept across restarts, each has a link (``/dashboard?run=ID``), and
   several can be overlaid on one chart.
4. **Draw a digit**: the drawing is preprocessed like MNIST (:mod:`.digit`) and classified by a model
   loaded only through :func:`mlpkit.load_network` (:mod:`.models`).
5. **Playground** (Ng's course 1 week 3 and course 2 weeks 1-2): a 2-D data set and a small network trained on
   the server a few epochs per request, its decision boundary redrawn as it learns beside the cost curves and
   per-layer gradient norms, with presets for every experiment of :data:`mlpkit.reproduce.COURSE_RUNS`
   (:mod:`.playground`).
6. **Autodiff graph** (the backpropagation lecture, course 1 week 3): the computation graph of logistic
   regression or of the 2-layer network, stepped through node by node, forward and then backward, with every
   matrix's shape and the lecture's closed-form gradient beside autodiff's (:mod:`.graph`).

Design choices:

- **Starlette + uvicorn**: a small, well-kept ASGI stack; Starlette gives routing, static files,
  streaming responses (for server-sent events) and a test client, which is all the app needs. FastAPI
  would add pydantic and a schema layer for a dozen endpoints whose inputs are checked by hand anyway,
  with messages in the house style (:mod:`._requests`).
- **Charts drawn by plotly.js**, a well-kept charting library (MIT), served by the app at
  ``/vendor/plotly.min.js`` from the installed ``plotly`` Python package (a dependency of the ``web``
  extra): no build step and no third-party file in the repository. ``static/plots.js`` gives every page
  the same look: axis titles, legends, hover values, 12 px text, markers on short series (the first
  epoch shows as a point), a sentence instead of empty axes, and responsive charts that fit a phone.
- **One header** for every page, drawn by ``static/nav.js`` from one list of pages; it marks the current
  page with ``aria-current="page"``.
- **Runs kept in run directories** (``mlpkit serve --runs``, :mod:`.rundirs`): the layout of
  ``mlpkit train --out``, read back (bounded, checked) when the server starts, so runs outlive it.
- **Server-sent events** rather than websockets: the stream is one-way (server to page) and SSE is plain
  HTTP that the browser reconnects by itself; the few page-to-server actions (start, stop) are POSTs.
- **Threads** for training runs: NumPy releases the GIL in its matrix products, so the server stays
  responsive; a run's failure is caught in its thread and reported as the run's status.
- Uploads (models) are raw request bodies with a size limit, not multipart forms: one dependency less.

Nothing here is imported by ``import mlpkit``; :mod:`.reporter` uses the standard library only, so
``mlpkit train --dashboard`` works without the ``web`` extra.
"""
