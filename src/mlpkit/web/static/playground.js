// Playground: a 2-D data set and a small network that mlpkit trains on the server a few epochs per request;
// the page redraws the decision boundary, the costs, the accuracies and each layer's gradient norm (plotly.js).
// Every server action goes through one queue, so a session never gets two requests at once.
"use strict";

const $ = (id) => document.getElementById(id);
const CLASS_COLORS = ["#e8710a", "#0b6fb8", "#2b8a3e", "#862e9c"];
// the boundary's colours: a sure prediction of class c, and no preference at all
const BACKGROUNDS = [[246, 179, 107], [125, 184, 227], [143, 204, 153], [196, 166, 219]];
const NEUTRAL = [244, 245, 247];
const LAYER_COLORS = ["#2563eb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#495057", "#5c940d"];
const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1d2330" };
const TARGET_SECONDS = 0.08, MAX_TARGET_SECONDS = 0.25; // server training time per request while running
const MAX_DRAWN = 500; // points per drawn curve (longer histories are thinned for drawing only)
const CHART_INTERVAL_MS = 400;
const INIT_LABELS = { default: "default N(0, 1/n)", large: "large N(0, 1)", zeros: "zeros", he: "He N(0, 2/n)",
  scaled_normal: "N(0, 1)·10", xavier: "Xavier", xavier_uniform: "Xavier uniform", lecun: "LeCun N(0, 1/n)" };
const PLOT_CONFIG = { responsive: true, displaylogo: false, scrollZoom: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"] };

const pg = { options: null, session: null, state: null, history: null, gradients: null, data: null, preset: null,
  layers: [], pending: 0, running: false, runQueued: false, stepEpochs: 1, drawPending: false, chartsDrawn: 0,
  drawSeconds: 0 };
window.playground = pg; // the browser tests read the state from here

async function api(path, options) {
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}
const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body || {}) });

let queue = Promise.resolve();
function enqueue(task) {
  pg.pending += 1;
  queue = queue.then(task).catch((err) => { setRunning(false); showError(err.message); })
    .finally(() => { pg.pending -= 1; });
  return queue;
}

function showError(message) { $("pg-error").textContent = message || ""; }
const isCourse = (name) => pg.options.course_datasets.includes(name);

// ------------------------------------------------------------------------------------------ controls
function fillSelect(select, values, label) {
  select.replaceChildren(...values.map((v) => new Option(label ? label(v) : v, v)));
}

function buildControls(options) {
  const dataset = $("pg-dataset");
  const generated = document.createElement("optgroup");
  generated.label = "generated";
  generated.append(...options.datasets.map((d) => new Option(d, d)));
  const course = document.createElement("optgroup");
  course.label = "the course's data";
  course.append(...options.course_datasets.map((d) => new Option(d.replace("course_", "course: "), d)));
  dataset.replaceChildren(generated, course);
  fillSelect($("pg-activation"), options.activations);
  fillSelect($("pg-init"), options.inits, (name) => INIT_LABELS[name] || name);
  fillSelect($("pg-optimizer"), options.optimizers);
  const limits = options.limits;
  $("pg-points").min = limits.min_points; $("pg-points").max = limits.max_points;
  $("pg-stop").max = limits.max_epochs;
  fillSelect($("pg-classes"), Array.from({ length: limits.max_classes - 1 }, (_, i) => String(i + 2)));
  // one row of buttons per experiment, each labelled by what the run changes ("zeros init", "Adam"...)
  const box = $("pg-presets");
  const groups = new Map();
  for (const preset of options.presets) {
    if (!groups.has(preset.experiment)) {
      const group = document.createElement("div");
      group.className = "pg-preset-group";
      const title = document.createElement("span");
      title.className = "muted";
      title.textContent = `${preset.experiment} (${preset.source})`;
      group.appendChild(title);
      groups.set(preset.experiment, group);
      box.appendChild(group);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary pg-small pg-preset";
    button.dataset.preset = preset.name;
    button.textContent = preset.name.includes(": ") ? preset.name.slice(preset.name.indexOf(": ") + 2) : preset.name;
    button.title = `${preset.name} (${preset.source})`;
    button.addEventListener("click", () => applyPreset(preset));
    groups.get(preset.experiment).appendChild(button);
  }
  if (!options.presets.length) box.textContent = "No course experiment fits the playground.";
}

function setControls(values) {
  const set = (id, value) => { if (value !== undefined) $(id).value = value === null ? "" : String(value); };
  set("pg-dataset", values.dataset);
  if (!isCourse(values.dataset)) {
    if (values.noise !== undefined) set("pg-noise", values.noise ?? pg.options.default_noise[values.dataset]);
    set("pg-points", values.n_samples);
    if (values.test_fraction) set("pg-test", Math.round(100 * values.test_fraction));
    set("pg-classes", values.classes);
  }
  set("pg-seed", values.seed);
  set("pg-activation", values.activation); set("pg-init", values.init); set("pg-optimizer", values.optimizer);
  set("pg-lr", values.lr); set("pg-l2", values.l2); set("pg-dropout", values.dropout);
  if (values.momentum !== null && values.momentum !== undefined) set("pg-momentum", values.momentum);
  if (values.batch_norm !== undefined) $("pg-batch-norm").checked = values.batch_norm;
  if (values.decay !== undefined) set("pg-decay", values.decay || "");
  if (values.decay_rate !== undefined) set("pg-decay-rate", values.decay_rate);
  if (values.decay_interval !== undefined) set("pg-decay-interval", values.decay_interval);
  set("pg-batch", values.batch_size);
  if (values.epochs !== undefined) set("pg-stop", values.epochs === pg.options.limits.max_epochs ? null : values.epochs);
  if (values.layers) { pg.layers = values.layers.slice(); drawLayers(); }
  showDependent();
}

function showDependent() {
  const dataset = $("pg-dataset").value, course = isCourse(dataset);
  for (const id of ["pg-noise", "pg-points", "pg-test"]) $(id).disabled = course;
  const multi = pg.options.multi_class.includes(dataset);
  $("pg-classes").disabled = !multi;
  if (!multi) $("pg-classes").value = "2";
  $("pg-recipe").classList.toggle("pg-off", course);
  $("pg-recipe-note").hidden = !course;
  $("pg-noise-value").textContent = Number($("pg-noise").value).toFixed(2);
  $("pg-momentum-label").hidden = !["momentum", "nesterov"].includes($("pg-optimizer").value);
  $("pg-decay-rate-label").hidden = $("pg-decay").value === "";
  $("pg-decay-interval-label").hidden = $("pg-decay").value !== "interval";
}

function drawLayers() {
  const box = $("pg-layers"), max = pg.options.limits.max_units;
  box.replaceChildren();
  pg.layers.forEach((units, i) => {
    const row = document.createElement("div");
    row.className = "pg-layer";
    const name = document.createElement("span");
    name.textContent = `hidden ${i + 1}`;
    const input = document.createElement("input");
    Object.assign(input, { type: "number", min: 1, max, step: 1, value: units });
    input.setAttribute("aria-label", `units in hidden layer ${i + 1}`);
    input.addEventListener("change", () => { pg.layers[i] = Math.round(Number(input.value)); settingsChanged(); });
    const button = (text, title, change) => {
      const b = document.createElement("button");
      Object.assign(b, { type: "button", className: "secondary pg-small", textContent: text, title });
      b.addEventListener("click", () => { change(); drawLayers(); settingsChanged(); });
      return b;
    };
    const unitsLabel = document.createElement("span");
    unitsLabel.className = "muted";
    unitsLabel.textContent = "units";
    row.append(name, button("−", "one unit less", () => { pg.layers[i] = Math.max(1, pg.layers[i] - 1); }), input,
      button("+", "one unit more", () => { pg.layers[i] = Math.min(max, pg.layers[i] + 1); }), unitsLabel,
      button("×", "remove this layer", () => { pg.layers.splice(i, 1); }));
    box.appendChild(row);
  });
  if (!pg.layers.length) {
    const none = document.createElement("p");
    none.className = "muted pg-note";
    none.textContent = "No hidden layer: logistic regression, a straight boundary.";
    box.appendChild(none);
  }
  $("pg-add-layer").disabled = pg.layers.length >= pg.options.limits.max_hidden_layers;
}

function optionalInt(id) {
  const text = $(id).value.trim();
  return text === "" ? null : Number(text);
}

function settings() {
  const body = { dataset: $("pg-dataset").value, seed: Number($("pg-seed").value), layers: pg.layers.slice(),
    activation: $("pg-activation").value, init: $("pg-init").value, optimizer: $("pg-optimizer").value,
    lr: Number($("pg-lr").value), l2: Number($("pg-l2").value), dropout: Number($("pg-dropout").value),
    batch_norm: $("pg-batch-norm").checked, batch_size: optionalInt("pg-batch"), epochs: optionalInt("pg-stop") };
  if (!isCourse(body.dataset)) {
    Object.assign(body, { noise: Number($("pg-noise").value), n_samples: Number($("pg-points").value),
      test_fraction: Number($("pg-test").value) / 100, classes: Number($("pg-classes").value) });
  }
  if (["momentum", "nesterov"].includes(body.optimizer)) body.momentum = Number($("pg-momentum").value);
  body.decay = $("pg-decay").value || null;
  if (body.decay) body.decay_rate = Number($("pg-decay-rate").value);
  if (body.decay === "interval") body.decay_interval = Number($("pg-decay-interval").value);
  if (pg.preset) body.preset = pg.preset;
  return body;
}

let changeTimer = null;
function settingsChanged() {
  pg.preset = null; // the settings are the user's own now
  showDependent();
  clearTimeout(changeTimer);
  changeTimer = setTimeout(() => enqueue(create), 200);
}

function applyPreset(preset) {
  setControls(preset.settings);
  pg.preset = preset.name;
  clearTimeout(changeTimer);
  enqueue(create);
}

// ------------------------------------------------------------------------------------------ sessions
async function create() {
  showError("");
  const state = await post("/api/playground", settings());
  const old = pg.session;
  pg.session = state.id;
  if (old) api(`/api/playground/${old}`, { method: "DELETE" }).catch(() => {});
  load(state);
  pg.stepEpochs = 1;
  scheduleRun();
}

function load(state) {
  pg.state = state;
  if (state.data) pg.data = state.data;
  pg.history = state.history;
  pg.gradients = state.gradients;
  const preset = state.preset;
  // the course's figures are percentages
  $("pg-preset-note").textContent = preset ? `${preset.name} (${preset.source})` +
    (preset.published_train != null ? `: the course reports ${preset.published_train}% on its training points` +
      (preset.published_test != null ? `, ${preset.published_test}% on its test points` : "") : "") +
    (preset.note ? `. Note: ${preset.note}.` : ".") : "";
  for (const b of document.querySelectorAll(".pg-preset")) {
    b.classList.toggle("pg-chosen", preset != null && b.dataset.preset === preset.name);
  }
  const data = pg.data;
  $("pg-network").textContent = (data.test_is_train ? `${data.n_train} points (trained and scored on the same), `
    : `${data.n_train} training and ${data.n_test} test points, `) +
    `network [${state.network.sizes.join(", ")}], ${state.network.parameters} parameters, batch size ${state.batch_size}`;
  update(state);
}

function merge(state) {
  pg.state = state;
  for (const key of Object.keys(pg.history)) pg.history[key].push(...state.history[key]);
  pg.gradients.layers = state.gradients.layers;
  pg.gradients.epoch.push(...state.gradients.epoch);
  pg.gradients.norm.push(...state.gradients.norm);
  update(state);
}

function update(state) {
  $("pg-epoch").textContent = String(state.epoch);
  $("pg-epoch").dataset.epoch = String(state.epoch);
  $("pg-epoch-total").textContent = state.epochs < pg.options.limits.max_epochs ? ` / ${state.epochs}` : "";
  if (state.learning_rate !== undefined) $("pg-rate").textContent = Number(state.learning_rate).toPrecision(3);
  const status = state.status === "ready" ? (pg.running ? "running" : "paused") : state.status;
  $("pg-status").textContent = status;
  $("pg-status").className = `pill ${status === "done" ? "completed" : status}`;
  if (state.status !== "ready") setRunning(false);
  $("pg-run").disabled = $("pg-step").disabled = state.status !== "ready";
  // a diverged run is an error; a finished one is news
  if (state.status === "diverged") showError(state.message);
  $("pg-message").textContent = state.status === "done" ? state.message : "";
  const last = (key) => { const values = pg.history[key]; return values.length ? values[values.length - 1] : null; };
  $("pg-loss").textContent = fixed(last("loss"));
  $("pg-val-loss").textContent = fixed(last("val_loss"));
  $("pg-accuracy").textContent = percent(last("accuracy"));
  $("pg-val-accuracy").textContent = percent(last("val_accuracy"));
  scheduleDraw();
}

// one step request after another while running (never two in the queue)
function scheduleRun() {
  if (pg.running && !pg.runQueued) { pg.runQueued = true; enqueue(runStep); }
}

async function runStep() {
  pg.runQueued = false;
  if (!pg.running || !pg.session) return;
  const before = pg.state.epoch;
  const state = await post(`/api/playground/${pg.session}/step`, { epochs: pg.stepEpochs });
  merge(state);
  // aim at TARGET_SECONDS of training per request, or as long as drawing takes on a slow machine (the next
  // request trains while this state is drawn): more epochs per request when they are quick
  const target = Math.min(MAX_TARGET_SECONDS, Math.max(TARGET_SECONDS, pg.drawSeconds));
  const done = Math.max(1, state.epoch - before);
  const wanted = Math.round(done * target / Math.max(state.seconds, 1e-4));
  pg.stepEpochs = Math.max(1, Math.min(wanted, 2 * done, pg.options.limits.max_step_epochs));
  scheduleRun();
}

function setRunning(running) {
  const stopped = pg.running && !running;
  pg.running = running;
  if (stopped && pg.state) scheduleDraw(); // the charts catch up with the last state
  $("pg-run").textContent = running ? "Pause" : "Run";
  $("pg-run").setAttribute("aria-label", running ? "Pause" : "Run");
  $("pg-run").classList.toggle("pg-running", running);
  document.body.dataset.state = running ? "running" : "paused";
  if (pg.state && pg.state.status === "ready") {
    $("pg-status").textContent = running ? "running" : "paused";
    $("pg-status").className = `pill ${running ? "running" : "paused"}`;
  }
}

// ------------------------------------------------------------------------------------------ drawing
function fixed(v) { return v == null ? "–" : v.toPrecision(4); }
function percent(v) { return v == null ? "–" : `${(100 * v).toFixed(1)}%`; }

function thin(xs, ys) {
  if (xs.length <= MAX_DRAWN) return [xs, ys];
  const stride = Math.ceil(xs.length / MAX_DRAWN), x = [], y = [];
  for (let i = 0; i < xs.length; i += stride) { x.push(xs[i]); y.push(ys[i]); }
  if ((xs.length - 1) % stride) { x.push(xs[xs.length - 1]); y.push(ys[ys.length - 1]); }
  return [x, y];
}

function series(name, key, color, dash) {
  const [x, y] = thin(pg.history.epoch, pg.history[key]);
  return { name, x, y, color, dash };
}

function drawCharts() {
  const same = pg.data && pg.data.test_is_train;
  const trainName = same ? "train (= test)" : "train";
  const cost = [series(trainName, "loss", Plots.PALETTE[0])];
  const accuracy = [series(trainName, "accuracy", Plots.PALETTE[0])];
  if (!same) {
    cost.push(series("test", "val_loss", Plots.PALETTE[1], "dot"));
    accuracy.push(series("test", "val_accuracy", Plots.PALETTE[1], "dot"));
  }
  Plots.line($("pg-chart-cost"), { xTitle: "epoch", yTitle: "cost (log scale)", log: true, series: cost });
  Plots.line($("pg-chart-accuracy"), { xTitle: "epoch", yTitle: "accuracy", percent: true, yRange: [0, 101],
    series: accuracy });
  // a log axis unless some norm is 0 (zeros initialization leaves the first layers' gradients at exactly 0)
  const g = pg.gradients;
  const positive = g.norm.every((row) => row.every((v) => v != null && v > 0));
  Plots.line($("pg-chart-gradients"), { xTitle: "epoch", yTitle: positive ? "norm (log scale)" : "norm", log: positive,
    series: g.layers.map((name, j) => {
      const [x, y] = thin(g.epoch, g.norm.map((row) => row[j]));
      return { name, x, y, color: LAYER_COLORS[j % LAYER_COLORS.length] };
    }) });
}

function decode(text) {
  const raw = atob(text), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// The boundary is a GRID x GRID image under the points: each cell's colour mixes the neutral background with
// its predicted class's colour by how sure the network is (P(class 1) for two classes). The browser smooths the
// image as it stretches it. Only the image changes from state to state (a relayout of one source, far cheaper
// than redrawing a heatmap); the points are drawn again only for a new data set.
function mix(a, b, t) { return a.map((v, i) => Math.round(v + (b[i] - v) * t)); }

function boundaryImage(boundary) {
  const n = boundary.size, k = boundary.channels, bytes = decode(boundary.values);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = n;
  const context = canvas.getContext("2d"), image = context.createImageData(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const cell = (i * n + j) * k;
      let rgb;
      if (k === 1) {
        const p = bytes[cell] / 255;
        rgb = p < 0.5 ? mix(NEUTRAL, BACKGROUNDS[0], 2 * (0.5 - p)) : mix(NEUTRAL, BACKGROUNDS[1], 2 * (p - 0.5));
      } else {
        let best = 0;
        for (let c = 1; c < k; c++) if (bytes[cell + c] > bytes[cell + best]) best = c;
        rgb = mix(NEUTRAL, BACKGROUNDS[best], Math.max(0, (bytes[cell + best] / 255 - 1 / k) / (1 - 1 / k)));
      }
      image.data.set([...rgb, 255], 4 * ((n - 1 - i) * n + j)); // row 0 of the grid is the bottom one
    }
  }
  context.putImageData(image, 0, 0);
  return canvas.toDataURL();
}

// the axes' ranges: the grid's cells are centred on its points, so the image reaches half a cell beyond them
function extent(boundary) {
  const half = (range) => (range[1] - range[0]) / (boundary.size - 1) / 2;
  return { x: [boundary.x[0] - half(boundary.x), boundary.x[1] + half(boundary.x)],
    y: [boundary.y[0] - half(boundary.y), boundary.y[1] + half(boundary.y)] };
}

function drawScale(channels, classes) {
  const box = $("pg-scale");
  if (channels === 1) {
    box.innerHTML = `<span>P(class 1):</span><span>0</span><span class="pg-gradient" style="background: linear-gradient(` +
      `to right, ${css(BACKGROUNDS[0])}, ${css(NEUTRAL)}, ${css(BACKGROUNDS[1])})"></span><span>1</span>`;
  } else {
    box.innerHTML = "<span>predicted class (deeper: surer):</span>" + Array.from({ length: classes }, (_, c) =>
      `<span class="pg-chip" style="background:${css(BACKGROUNDS[c])}"></span><span>${c}</span>`).join("");
  }
}
function css(rgb) { return `rgb(${rgb.join(",")})`; }

function pointTraces(data) {
  const traces = [];
  const add = (split, test) => {
    for (let c = 0; c < data.classes; c++) {
      const idx = split.label.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0);
      traces.push({ type: "scatter", mode: "markers", name: `${test ? "test" : "train"} class ${c}`,
        x: idx.map((i) => split.x[i]), y: idx.map((i) => split.y[i]), legendgroup: test ? "test" : "train",
        marker: { color: test ? "rgba(255,255,255,0.85)" : CLASS_COLORS[c], size: test ? 7 : 6,
          line: { color: test ? CLASS_COLORS[c] : "#fff", width: test ? 2 : 0.8 } },
        hovertemplate: `${test ? "test" : "train"}, class ${c}<br>x %{x:.2f}, y %{y:.2f}<extra></extra>` });
    }
  };
  add(data.train, false);
  if (!data.test_is_train) add(data.test, true);
  return traces;
}

function drawBoundary() {
  const state = pg.state, box = $("pg-boundary"), b = state.boundary, source = boundaryImage(b);
  if (box.dataset.session === state.id) {
    Plotly.relayout(box, { "images[0].source": source });
  } else {
    const range = extent(b), side = Math.max(240, Math.min(box.clientWidth, 600));
    const layout = { margin: { l: 40, r: 8, t: 8, b: 36 }, height: side, paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: css(NEUTRAL), font: FONT, showlegend: true, hovermode: "closest",
      legend: { orientation: "h", x: 0, y: 1.01, yanchor: "bottom", font: { size: 11 } },
      xaxis: { range: range.x, constrain: "domain", showgrid: false, zeroline: false, title: { text: "x₁", standoff: 2 } },
      yaxis: { range: range.y, scaleanchor: "x", scaleratio: 1, constrain: "domain", showgrid: false, zeroline: false,
        title: { text: "x₂", standoff: 2 } },
      images: [{ source, xref: "x", yref: "y", x: range.x[0], y: range.y[1], sizex: range.x[1] - range.x[0],
        sizey: range.y[1] - range.y[0], sizing: "stretch", layer: "below" }] };
    layout.margin.t = 8 + 22 * Math.ceil((pg.data.test_is_train ? 1 : 2) * pg.data.classes / 4); // the legend rows
    Plotly.react(box, pointTraces(pg.data), layout, PLOT_CONFIG);
    drawScale(b.channels, pg.data.classes);
    box.dataset.session = state.id;
  }
  box.dataset.epoch = String(state.epoch);
  box.dataset.image = source.length > 64 ? source.slice(-64) : source; // changes when the image does
}

// what the network says under the mouse pointer: the grid cell nearest to it (Plotly's axes give the mapping)
function readout(event) {
  const box = $("pg-boundary"), layout = box._fullLayout, state = pg.state;
  if (!layout || !state) return;
  const rect = box.getBoundingClientRect(), xa = layout.xaxis, ya = layout.yaxis;
  const x = xa.p2l(event.clientX - rect.left - xa._offset), y = ya.p2l(event.clientY - rect.top - ya._offset);
  const b = state.boundary, n = b.size;
  const j = Math.round((x - b.x[0]) / (b.x[1] - b.x[0]) * (n - 1)), i = Math.round((y - b.y[0]) / (b.y[1] - b.y[0]) * (n - 1));
  if (!(i >= 0 && i < n && j >= 0 && j < n)) { $("pg-readout").textContent = ""; return; }
  const bytes = decode(b.values), cell = (i * n + j) * b.channels;
  const at = `at (${x.toFixed(2)}, ${y.toFixed(2)}): `;
  if (b.channels === 1) { $("pg-readout").textContent = at + `P(class 1) = ${(bytes[cell] / 255).toFixed(2)}`; return; }
  const probabilities = Array.from(bytes.slice(cell, cell + b.channels), (v) => (v / 255).toFixed(2));
  $("pg-readout").textContent = at + `P(class) = ${probabilities.join(", ")}`;
}

// The boundary is redrawn on every frame that has a new state; the three charts (slower to draw) at most every
// CHART_INTERVAL_MS while running, and always once the training stops.
function scheduleDraw() {
  if (pg.drawPending) return;
  pg.drawPending = true;
  requestAnimationFrame(() => {
    pg.drawPending = false;
    const start = performance.now();
    drawBoundary();
    if (!pg.running || start - pg.chartsDrawn >= CHART_INTERVAL_MS) {
      drawCharts();
      pg.chartsDrawn = start;
    }
    pg.drawSeconds = 0.8 * pg.drawSeconds + 0.2 * (performance.now() - start) / 1000;
  });
}

// ------------------------------------------------------------------------------------------ wiring
$("pg-run").addEventListener("click", () => {
  if (pg.running) { setRunning(false); return; }
  if (!pg.state || pg.state.status !== "ready") return; // finished or diverged: Reset, or change a setting
  showError("");
  setRunning(true);
  scheduleRun();
});
$("pg-step").addEventListener("click", () => {
  setRunning(false);
  enqueue(async () => {
    if (!pg.session) return;
    merge(await post(`/api/playground/${pg.session}/step`, { epochs: 1 }));
  });
});
$("pg-reset").addEventListener("click", () => {
  setRunning(false);
  showError("");
  enqueue(async () => {
    if (pg.session) load(await post(`/api/playground/${pg.session}/reset`));
  });
});
$("pg-add-layer").addEventListener("click", () => {
  pg.layers.push(pg.layers.length ? pg.layers[pg.layers.length - 1] : 4);
  drawLayers();
  settingsChanged();
});
$("pg-form").addEventListener("change", (e) => {
  if (e.target.closest(".pg-layer")) return; // the layer rows report their own changes
  if (e.target.id === "pg-dataset" && e.target.value in pg.options.default_noise) {
    $("pg-noise").value = pg.options.default_noise[e.target.value]; // each set's own noise to start with
  }
  settingsChanged();
});
$("pg-form").addEventListener("submit", (e) => e.preventDefault());
$("pg-noise").addEventListener("input", showDependent);
$("pg-boundary").addEventListener("mousemove", readout);
$("pg-boundary").addEventListener("mouseleave", () => { $("pg-readout").textContent = ""; });
window.addEventListener("pagehide", () => {
  if (pg.session) fetch(`/api/playground/${pg.session}`, { method: "DELETE", keepalive: true }).catch(() => {});
});

enqueue(async () => {
  pg.options = await api("/api/playground/options");
  buildControls(pg.options);
  setControls(pg.options.defaults);
  await create();
  setRunning(false);
});
