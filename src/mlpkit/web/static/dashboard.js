// Training dashboard: start runs, follow one run's server-sent events, draw its curves and mistakes.
"use strict";

const $ = (id) => document.getElementById(id);
let source = null, current = null, epochs = [];

async function api(path, options) {
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function settings() {
  const body = { dataset: $("dataset").value, layers: $("layers").value.trim(), activation: $("activation").value,
    optimizer: $("optimizer").value, lr: Number($("lr").value), l2: Number($("l2").value),
    epochs: Number($("epochs").value), batch_size: Number($("batch_size").value) };
  const keep = Number($("dropout").value);
  if (keep < 1) body.dropout = keep;
  return body;
}

function setStatus(status, message) {
  $("status").textContent = status;
  $("status").className = `pill ${status}`;
  $("message").textContent = message || "";
  $("stop").disabled = status !== "running";
}

function series(name, key, color, dash) {
  return { name, color, dash, x: epochs.map((e) => e.epoch), y: epochs.map((e) => e.logs[key]) };
}

function drawCharts() {
  const has = (key) => epochs.some((e) => key in e.logs);
  const cost = [series("train", "loss", "#2563eb"), series("validation", "val_loss", "#d9480f")].filter((s, i) => has(["loss", "val_loss"][i]));
  Charts.line($("chart-cost"), { title: "cost", xLabel: "epoch", xMin: 0, xMax: Math.max(1, Number($("epoch-total").textContent)), series: cost });
  const acc = [series("train", "accuracy", "#2563eb"), series("validation", "val_accuracy", "#d9480f")]
    .filter((s, i) => has(["accuracy", "val_accuracy"][i]))
    .map((s) => ({ ...s, y: s.y.map((v) => 100 * v) }));
  Charts.line($("chart-accuracy"), { title: "accuracy (%)", xLabel: "epoch", xMin: 0, xMax: Math.max(1, Number($("epoch-total").textContent)), series: acc });
  const names = epochs.length ? epochs[epochs.length - 1].gradients.map((g) => g.name) : [];
  const grads = names.map((name) => ({ name, x: epochs.map((e) => e.epoch),
    y: epochs.map((e) => (e.gradients.find((g) => g.name === name) || {}).rms) }));
  Charts.line($("chart-gradients"), { title: "RMS weight gradient per layer (log scale)", xLabel: "epoch", log: true,
    xMin: 0, xMax: Math.max(1, Number($("epoch-total").textContent)), series: grads });
}

function drawMistakes(grid) {
  const box = $("mistakes");
  box.replaceChildren();
  if (!grid) { $("mistake-count").textContent = ""; return; }
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
    label.innerHTML = `predicted <b>${image.predicted}</b>, true ${image.true}`;
    cell.append(canvas, label);
    box.appendChild(cell);
  }
}

function onEvent(event) {
  if (event.type === "start") {
    $("epoch-total").textContent = String(event.epochs);
    if (event.sizes) $("message").textContent = `${event.dataset || ""} ${JSON.stringify(event.sizes)}`;
  } else if (event.type === "epoch") {
    epochs.push(event);
    $("epoch").textContent = String(event.epoch);
    $("epoch").dataset.epoch = String(event.epoch);
    drawCharts();
    drawMistakes(event.misclassified);
  } else if (event.type === "end") {
    const test = event.test_accuracy != null ? `test accuracy ${(100 * event.test_accuracy).toFixed(2)}%. ` : "";
    setStatus(event.status, test + (event.message || ""));
    if (source) { source.close(); source = null; }
    refreshRuns();
  }
}

function follow(id) {
  if (source) { source.close(); source = null; }
  current = id; epochs = [];
  $("epoch").textContent = "0"; $("epoch").dataset.epoch = "0";
  drawCharts(); drawMistakes(null);
  if (!id) { setStatus("idle"); return; }
  $("runs").value = id;
  setStatus("running");
  source = new EventSource(`/api/runs/${id}/events`);
  source.onmessage = (message) => onEvent(JSON.parse(message.data));
}

async function refreshRuns() {
  try {
    const { runs } = await api("/api/runs");
    const select = $("runs"), chosen = current;
    select.replaceChildren(...(runs.length ? [] : [new Option("(no runs yet)", "")]),
      ...runs.map((r) => new Option(`${r.name} · ${r.source} · ${r.status} (${r.epoch}/${r.epochs})`, r.id)));
    if (chosen) select.value = chosen;
    // follow a run from `mlpkit train --dashboard` when nothing else is followed
    const fresh = runs.find((r) => r.status === "running");
    if ((!current || !source) && fresh && fresh.id !== current) follow(fresh.id);
  } catch (err) { /* the next refresh tries again */ }
}

$("run-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("error").textContent = "";
  try {
    const run = await api("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(settings()) });
    await refreshRuns();
    follow(run.id);
  } catch (err) { $("error").textContent = err.message; }
});
$("runs").addEventListener("change", () => follow($("runs").value));
$("stop").addEventListener("click", async () => {
  if (!current) return;
  try { await api(`/api/runs/${current}/stop`, { method: "POST" }); $("message").textContent = "stopping after this epoch"; }
  catch (err) { $("error").textContent = err.message; }
});
drawCharts();
refreshRuns();
setInterval(refreshRuns, 3000);
