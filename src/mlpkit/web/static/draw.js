// Draw a digit: a canvas, sent as grey levels in [0, 1] (ink = 1) to /api/predict with the chosen model.
"use strict";

const $ = (id) => document.getElementById(id);
const pad = $("pad"), ctx = pad.getContext("2d");
const SEND = 140; // the drawing is sent as SEND x SEND pixels (the browser averages when it scales down)
let drawing = false, last = null, inked = false;

function clear() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  inked = false;
  $("prediction").textContent = "–";
  $("preview").getContext("2d").clearRect(0, 0, 28, 28);
  showProbabilities([]);
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

function stroke(from, to) {
  ctx.strokeStyle = "#000"; ctx.lineWidth = 18; ctx.lineCap = "round"; ctx.lineJoin = "round";
  ctx.beginPath(); ctx.moveTo(...from); ctx.lineTo(...to); ctx.stroke();
  inked = true;
}

pad.addEventListener("pointerdown", (e) => { drawing = true; last = point(e); stroke(last, last); pad.setPointerCapture(e.pointerId); });
pad.addEventListener("pointermove", (e) => { if (!drawing) return; const p = point(e); stroke(last, p); last = p; });
pad.addEventListener("pointerup", () => { if (drawing) { drawing = false; classify(); } });

function pixels() {
  const small = document.createElement("canvas");
  small.width = SEND; small.height = SEND;
  const sctx = small.getContext("2d");
  sctx.imageSmoothingEnabled = true; sctx.imageSmoothingQuality = "high";
  sctx.drawImage(pad, 0, 0, SEND, SEND);
  const data = sctx.getImageData(0, 0, SEND, SEND).data, rows = [];
  for (let y = 0; y < SEND; y++) {
    const row = [];
    for (let x = 0; x < SEND; x++) row.push(Math.round((255 - data[4 * (y * SEND + x)]) / 255 * 1000) / 1000);
    rows.push(row);
  }
  return rows;
}

function showProbabilities(p) {
  Plots.bars($("chart-probabilities"), { labels: p.map((_, k) => k), values: p, highlight: p.indexOf(Math.max(...p)),
    format: ".2f", xTitle: "class", yTitle: "probability",
    emptyMessage: "Draw a digit: the model's probability of each class appears here." });
  const sum = p.reduce((a, b) => a + b, 0);
  $("prob-sum").textContent = p.length ? sum.toFixed(6) : "";
  $("prob-sum").dataset.sum = String(sum);
}

function showInput(input) {
  const [h, w] = input.shape, canvas = $("preview");
  canvas.width = w; canvas.height = h;
  const c = canvas.getContext("2d"), image = c.createImageData(w, h);
  input.pixels.flat().forEach((v, i) => { const g = Math.round(255 * v); image.data.set([g, g, g, 255], 4 * i); });
  c.putImageData(image, 0, 0);
}

async function classify() {
  $("error").textContent = "";
  if (!inked) { $("error").textContent = "draw a digit first"; return; }
  if (!$("model").value) { $("error").textContent = "no model to use: start mlpkit serve --models DIR, upload one, or train one on the dashboard"; return; }
  try {
    const response = await fetch("/api/predict", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: $("model").value, pixels: pixels() }) });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    showInput(data.input);
    showProbabilities(data.probabilities);
    $("prediction").textContent = String(data.prediction);
    $("prediction").dataset.prediction = String(data.prediction);
  } catch (err) { $("error").textContent = err.message; }
}

async function loadModels(select) {
  const response = await fetch("/api/models"), { models } = await response.json();
  const usable = models.filter((m) => m.usable);
  $("model").replaceChildren(...usable.map((m) => new Option(
    `${m.name} (${m.input_dim === 784 ? "28x28" : "8x8"}${m.test_accuracy != null ? `, test ${(100 * m.test_accuracy).toFixed(1)}%` : ""})`, m.id)));
  if (select) $("model").value = select;
  const skipped = models.length - usable.length;
  $("model-info").textContent = usable.length ? (skipped ? `${skipped} model(s) not usable for drawings` : "")
    : "no usable model yet";
}

$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  $("error").textContent = "";
  try {
    const response = await fetch(`/api/models?name=${encodeURIComponent(file.name)}`, { method: "POST",
      headers: { "Content-Type": "application/octet-stream" }, body: file });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    if (!data.usable) throw new Error(`${data.name}: ${data.problem}`);
    await loadModels(data.id);
  } catch (err) { $("error").textContent = err.message; }
  $("upload").value = "";
});
$("predict").addEventListener("click", classify);
$("clear").addEventListener("click", clear);
$("model").addEventListener("change", () => { if (inked) classify(); });
clear();
loadModels();
