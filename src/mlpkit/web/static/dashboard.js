// Training dashboard: a form built from the server's option table, the list of runs (kept across restarts),
// one open run followed through its server-sent events, and several runs overlaid on one chart.
"use strict";

const $ = (id) => document.getElementById(id);

// how the form names and groups the options of /api/options (everything else about them comes from the server)
const LABELS = { dataset: "data set", layers: "layers", activation: "activation", init: "initialization",
  batch_norm: "batch normalization", dropout: "dropout keep probability", l2: "L2 λ", optimizer: "optimizer",
  lr: "learning rate", momentum: "momentum β", beta1: "β1", beta2: "β2", weight_decay: "weight decay",
  schedule: "schedule", decay_rate: "decay rate", decay_epochs: "decay epochs", staircase: "staircase",
  step_size: "step size (epochs)", factor: "factor", patience: "patience (epochs)", epochs: "epochs",
  batch_size: "batch size", seed: "seed", early_stopping: "early stopping (epochs)", augment: "augmentation",
  samples: "points (2-D sets)", noise: "noise (2-D sets)", classes: "classes (spiral, gaussian)" };
const GROUPS = [
  ["Data", ["dataset", "samples", "noise", "classes"]],
  ["Network", ["layers", "activation", "init", "batch_norm", "dropout", "l2"]],
  ["Optimizer", ["optimizer", "lr", "momentum", "beta1", "beta2", "weight_decay"]],
  ["Learning-rate schedule", ["schedule", "decay_rate", "decay_epochs", "staircase", "step_size", "factor", "patience"]],
  ["Training", ["epochs", "batch_size", "seed", "early_stopping", "augment"]],
];
// the page starts with short runs; every other field starts empty (the default applies)
const START_VALUES = { epochs: 10 };
const METRICS = { val_accuracy: "validation accuracy", accuracy: "training accuracy", val_loss: "validation cost",
  loss: "training cost" };

let options = null;                 // GET /api/options
let source = null, current = null;  // the open run's event stream and id
let openRun = null;                 // its summary
let epochs = [], progress = null, drawScheduled = false;
const typedRates = {};              // the learning rate typed for each optimizer
const compared = new Set();         // runs overlaid on the comparison chart
const finishedDetails = new Map();  // id -> a finished run's summary and events
let listing = { runs: [], skipped: [] }, listingKey = "";

async function api(path, init) {
  const response = await fetch(path, init);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

// ------------------------------------------------------------------------------------------ the form
function field(name) {
  const option = options.options[name];
  const label = document.createElement("label");
  label.className = `field field-${name}`;
  label.title = option.help;
  label.dataset.name = name;
  const text = document.createElement("span");
  text.textContent = LABELS[name] || name;
  label.appendChild(text);
  let input;
  if (name === "augment") {
    input = document.createElement("span");
    input.className = "checks";
    for (const choice of option.choices) {
      const box = document.createElement("label"), check = document.createElement("input");
      box.className = "check";
      check.type = "checkbox";
      check.name = "augment";
      check.value = choice;
      box.append(check, ` ${choice}`);
      input.appendChild(box);
    }
  } else if (option.kind === "bool") {
    input = document.createElement("input");
    input.type = "checkbox";
    label.classList.add("check-field");
  } else if (option.choices.length) {
    input = document.createElement("select");
    for (const choice of option.choices) input.appendChild(new Option(choice, choice, false, choice === option.default));
  } else {
    input = document.createElement("input");
    input.type = option.kind === "int" || option.kind === "float" ? "number" : "text";
    if (input.type === "number") { input.step = "any"; input.inputMode = "decimal"; }
    if (START_VALUES[name] !== undefined) input.value = String(START_VALUES[name]);
  }
  input.id = name;
  label.appendChild(input);
  return label;
}

function buildForm() {
  const box = $("form-fields");
  for (const [title, names] of GROUPS) {
    const group = document.createElement("fieldset"), legend = document.createElement("legend");
    legend.textContent = title;
    group.appendChild(legend);
    for (const name of names) if (options.options[name]) group.appendChild(field(name));
    box.appendChild(group);
  }
  $("optimizer").dataset.previous = $("optimizer").value;
  $("optimizer").addEventListener("change", () => {
    typedRates[$("optimizer").dataset.previous] = $("lr").value;
    $("lr").value = typedRates[$("optimizer").value] || "";
    $("optimizer").dataset.previous = $("optimizer").value;
    updateForm();
  });
  $("schedule").addEventListener("change", updateForm);
  updateForm();
  $("start").disabled = false;
  $("form-note").textContent = "";
}

// show the parameters of the chosen optimizer and schedule, each with its default as placeholder
function updateForm() {
  const chosen = { optimizer: $("optimizer").value, schedule: $("schedule").value };
  for (const [name, option] of Object.entries(options.options)) {
    const input = $(name);
    if (!input) continue;
    if (name === "lr") {
      input.placeholder = String(options.learning_rates[chosen.optimizer]);
      continue;
    }
    if (option.target) {
      const applies = option.applies_to.includes(chosen[option.target]);
      input.closest("label").hidden = !applies;
      const fallback = option.defaults[chosen[option.target]];
      if (input.type !== "checkbox") input.placeholder = fallback === undefined ? "required" : String(fallback);
    } else if (input.tagName === "INPUT" && input.type !== "checkbox" && option.default !== null) {
      input.placeholder = String(option.default);
    }
  }
  const placeholders = { dropout: "1 (off)", early_stopping: "0 (off)" };
  for (const [name, text] of Object.entries(placeholders)) if ($(name)) $(name).placeholder = text;
}

// the request: every visible field that is set (an empty field is left to the library's default)
function settings() {
  const body = {};
  for (const name of options.fields) {
    const input = $(name);
    if (!input || input.closest("label").hidden) continue;
    const option = options.options[name];
    if (name === "augment") {
      const chosen = [...input.querySelectorAll("input:checked")].map((box) => box.value);
      if (chosen.length) body.augment = chosen.join(",");
    } else if (input.type === "checkbox") {
      if (input.checked) body[name] = true;
    } else if (input.tagName === "SELECT") {
      body[name] = input.value;
    } else if (input.value.trim() !== "") {
      const text = input.value.trim(), number = Number(text);
      body[name] = (option.kind === "int" || option.kind === "float") && Number.isFinite(number) ? number : text;
    }
  }
  return body;
}

// ------------------------------------------------------------------------------------------ the open run
function setStatus(status, message) {
  $("status").textContent = status;
  $("status").className = `pill ${status}`;
  if (message !== undefined) $("message").textContent = message;
  $("stop").disabled = status !== "running";
  if (status !== "running") { progress = null; $("batch-progress-box").hidden = true; }
}

function showProgress(p) {
  progress = p;
  $("batch-progress-box").hidden = false;
  $("batch-progress").max = Math.max(1, p.total);
  $("batch-progress").value = p.batches;
  $("batch-text").textContent = `batch ${p.batches} / ${p.total} of epoch ${p.epoch}`;
  if (!epochs.length) drawCharts();
}

function series(name, key, color) {
  return { name, color, x: epochs.map((e) => e.epoch), y: epochs.map((e) => e.logs[key]) };
}

function drawCharts() {
  const total = Number($("epoch-total").textContent) || 1;
  let waiting = "No run open: start one above, or open one from the list of runs.";
  if (current && !epochs.length) {
    waiting = openRun && openRun.status !== "running" ? "This run ended before its first epoch."
      : `Waiting for the first epoch${progress ? ` (batch ${progress.batches} of ${progress.total})` : ""}…`;
  }
  Plots.line($("chart-cost"), { xTitle: "epoch", yTitle: "cost", epochs: total, emptyMessage: waiting,
    series: [series("train", "loss", "#2563eb"), series("validation", "val_loss", "#d9480f")] });
  Plots.line($("chart-accuracy"), { xTitle: "epoch", yTitle: "accuracy", percent: true, epochs: total,
    emptyMessage: epochs.length ? "This run reports no accuracy (not a classifier)." : waiting,
    series: [series("train", "accuracy", "#2563eb"), series("validation", "val_accuracy", "#d9480f")] });
  const names = epochs.length ? epochs[epochs.length - 1].gradients.map((g) => g.name) : [];
  Plots.line($("chart-gradients"), { xTitle: "epoch", yTitle: "RMS of dC/dW (log scale)", log: true, epochs: total,
    emptyMessage: epochs.length ? "No gradient norms were recorded for this run (mlpkit train keeps costs and " +
      "accuracies only)." : waiting,
    series: names.map((name) => ({ name, x: epochs.map((e) => e.epoch),
      y: epochs.map((e) => (e.gradients.find((g) => g.name === name) || {}).rms) })) });
  const grids = epochs.map((e) => e.misclassified).filter((g) => g);
  drawMistakes(grids.length ? grids[grids.length - 1] : null);
}

function scheduleDraw() {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => { drawScheduled = false; drawCharts(); });
}

function drawMistakes(grid) {
  const box = $("mistakes");
  box.replaceChildren();
  if (!grid) {
    $("mistake-count").textContent = "";
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = epochs.length ? "No images for this run." : "The images appear after the first epoch.";
    box.appendChild(p);
    return;
  }
  $("mistake-count").textContent = `(${grid.count} of ${grid.checked} wrong; first ${grid.images.length} shown)`;
  const [h, w] = grid.shape;
  for (const image of grid.images) {
    const cell = document.createElement("div");
    cell.className = "mistake";
    const canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext("2d"), data = ctx.createImageData(w, h), bytes = atob(image.pixels);
    for (let i = 0; i < w * h; i++) {
      const v = bytes.charCodeAt(i);
      data.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(data, 0, 0);
    const label = document.createElement("div");
    label.innerHTML = `predicted <b>${Number(image.predicted)}</b>, true ${Number(image.true)}`;
    cell.append(canvas, label);
    box.appendChild(cell);
  }
}

function onEvent(event) {
  if (event.type === "start") {
    $("epoch-total").textContent = String(event.epochs);
    if (event.sizes) $("message").textContent = `${event.dataset || ""} ${JSON.stringify(event.sizes)}`;
    scheduleDraw();
  } else if (event.type === "epoch") {
    epochs.push(event);
    progress = null;
    $("epoch").textContent = String(event.epoch);
    $("epoch").dataset.epoch = String(event.epoch);
    scheduleDraw();
  } else if (event.type === "end") {
    const test = event.test_accuracy != null ? `test accuracy ${(100 * event.test_accuracy).toFixed(2)}%. ` : "";
    if (openRun) openRun.status = event.status;
    setStatus(event.status, test + (event.message || ""));
    if (source) { source.close(); source = null; }
    finishedDetails.delete(current);
    scheduleDraw();
    refreshRuns();
  }
}

function updateAddress() {
  const params = new URLSearchParams();
  if (current) params.set("run", current);
  if (compared.size) params.set("compare", [...compared].join(","));
  const query = params.toString();
  history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
}

async function openRunById(id) {
  if (source) { source.close(); source = null; }
  current = id || null; openRun = null; epochs = []; progress = null;
  $("epoch").textContent = "0"; $("epoch").dataset.epoch = "0"; $("epoch-total").textContent = "0";
  $("run-link").hidden = true;
  $("run-name").textContent = current ? current : "No run open";
  setStatus(current ? "loading" : "idle", "");
  updateAddress();
  renderRuns();
  drawCharts();
  if (!current) return;
  try {
    openRun = await api(`/api/runs/${encodeURIComponent(id)}`);
  } catch (err) {
    if (current === id) { $("error").textContent = err.message; current = null; setStatus("idle"); updateAddress(); }
    return;
  }
  if (current !== id) return;
  $("run-name").textContent = openRun.name;
  $("run-link").href = openRun.url;
  $("run-link").hidden = false;
  setStatus(openRun.status === "running" ? "running" : "loading");
  source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
  source.onmessage = (message) => onEvent(JSON.parse(message.data));
  source.addEventListener("progress", (message) => showProgress(JSON.parse(message.data)));
}

// ------------------------------------------------------------------------------------------ the list of runs
function describe(run) {
  const parts = [`${run.epoch}/${run.epochs} epochs`];
  if (run.test_accuracy != null) parts.push(`test ${(100 * run.test_accuracy).toFixed(1)}%`);
  parts.push({ server: "this page", attached: "mlpkit train --dashboard", train: "mlpkit train" }[run.source]
    || run.source);
  parts.push(new Date(run.created * 1000).toLocaleString());
  return parts.join(" · ");
}

function renderRuns() {
  const list = $("run-list");
  list.replaceChildren();
  if (!listing.runs.length) {
    const empty = document.createElement("li");
    empty.className = "muted";
    empty.textContent = "No runs yet: start one above.";
    list.appendChild(empty);
  }
  for (const run of listing.runs) {
    const item = document.createElement("li");
    item.className = "run-item" + (run.id === current ? " open" : "");
    item.dataset.id = run.id;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "compare";
    box.checked = compared.has(run.id);
    box.setAttribute("aria-label", `compare ${run.name}`);
    box.addEventListener("change", () => {
      if (box.checked) compared.add(run.id); else compared.delete(run.id);
      updateAddress();
      drawCompare();
    });
    const link = document.createElement("a");
    link.className = "run-link";
    link.href = run.url;
    link.textContent = run.name;
    link.addEventListener("click", (e) => {
      if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;  // a new tab or window: the browser's
      e.preventDefault();
      openRunById(run.id);
    });
    const status = document.createElement("span");
    status.className = `pill ${run.status}`;
    status.textContent = run.status;
    const about = document.createElement("span");
    about.className = "muted run-about";
    about.textContent = describe(run);
    item.append(box, link, status, about);
    list.appendChild(item);
  }
  const skipped = listing.skipped || [];
  $("runs-note").textContent = skipped.length ? `${skipped.length} run director${skipped.length > 1 ? "ies" : "y"} ` +
    `could not be read and ${skipped.length > 1 ? "are" : "is"} not listed: ` +
    skipped.map((s) => `${s.directory} (${s.problem})`).join("; ") : "";
}

async function refreshRuns() {
  try {
    listing = await api("/api/runs");
  } catch (err) { return; /* the next refresh tries again */ }
  const key = JSON.stringify(listing.runs.map((r) => [r.id, r.status, r.epoch, r.test_accuracy]));
  if (key !== listingKey) { listingKey = key; renderRuns(); }
  if (!current) {  // follow a run from mlpkit train --dashboard (or another page) when none is open
    const running = listing.runs.find((r) => r.status === "running");
    if (running) openRunById(running.id);
  }
  if (listing.runs.some((r) => compared.has(r.id) && r.status === "running")) drawCompare();
}

// ------------------------------------------------------------------------------------------ comparing runs
async function details(id) {
  if (finishedDetails.has(id)) return finishedDetails.get(id);
  const run = await api(`/api/runs/${encodeURIComponent(id)}`);
  if (run.status !== "running") finishedDetails.set(id, run);
  return run;
}

let compareCalls = 0;

async function drawCompare() {
  const call = ++compareCalls;
  const metric = $("compare-metric").value;
  const ids = [...compared];
  const chart = $("chart-compare");
  if (!ids.length) {
    Plots.empty(chart, "Tick runs in the list to overlay their curves here.");
    return;
  }
  const runs = (await Promise.all(ids.map((id) => details(id).catch(() => null)))).filter((r) => r);
  if (call !== compareCalls) return;  // a later call (another tick, another metric) draws
  const all = runs.map((run) => {
    const done = run.events.filter((e) => e.type === "epoch");
    return { name: `${run.name} · ${run.id.slice(-4)}`, x: done.map((e) => e.epoch), y: done.map((e) => e.logs[metric]) };
  });
  Plots.line(chart, { xTitle: "epoch", yTitle: METRICS[metric], percent: metric.endsWith("accuracy"), series: all,
    epochs: Math.max(1, ...runs.map((run) => run.epochs)),
    emptyMessage: `The ticked runs have no ${METRICS[metric]} yet.` });
}

// ------------------------------------------------------------------------------------------ start
$("run-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("error").textContent = "";
  try {
    const run = await api("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(settings()) });
    openRunById(run.id);
    refreshRuns();
  } catch (err) { $("error").textContent = err.message; }
});
$("stop").addEventListener("click", async () => {
  if (!current) return;
  try { await api(`/api/runs/${encodeURIComponent(current)}/stop`, { method: "POST" });
    $("message").textContent = "stopping after this epoch"; }
  catch (err) { $("error").textContent = err.message; }
});
$("compare-metric").addEventListener("change", drawCompare);
$("compare-clear").addEventListener("click", () => { compared.clear(); updateAddress(); renderRuns(); drawCompare(); });

(async () => {
  const params = new URLSearchParams(window.location.search);
  for (const id of (params.get("compare") || "").split(",")) if (id) compared.add(id);
  drawCharts();
  drawCompare();
  try {
    options = await api("/api/options");
    buildForm();
  } catch (err) { $("error").textContent = `cannot load the run options: ${err.message}`; }
  if (params.get("run")) await openRunById(params.get("run"));
  await refreshRuns();
  setInterval(refreshRuns, 3000);
})();
