// Learning slowdown page: fetch the four trajectories from /api/neuron, then animate them epoch by epoch.
"use strict";

const COSTS = { quadratic: "quadratic cost", cross_entropy: "cross-entropy cost" };
const STARTS = { a: "start A", b: "start B" };
const COLORS = { a: "#2563eb", b: "#d9480f" };
const $ = (id) => document.getElementById(id);
let animation = null;

function value(id) {
  const v = Number($(id).value);
  if ($(id).value.trim() === "" || !Number.isFinite(v)) throw new Error(`${id} must be a number`);
  return v;
}

async function trajectory(start, cost) {
  const body = { w: value(`w-${start}`), b: value(`b-${start}`), eta: value(`eta-${cost}`), cost,
    epochs: value("epochs"), x: value("x"), y: value("y") };
  const response = await fetch("/api/neuron", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function draw(results, upTo) {
  for (const cost of Object.keys(COSTS)) {
    for (const [what, label] of [["cost", "cost C"], ["output", "output a"]]) {
      const series = Object.keys(STARTS).map((start) => {
        const r = results[`${start}-${cost}`];
        return { name: STARTS[start], color: COLORS[start],
          x: r.epoch.slice(0, upTo + 1), y: r[what].slice(0, upTo + 1) };
      });
      const total = results[`a-${cost}`].epoch.length - 1;
      Charts.line($(`chart-${cost}-${what}`), { title: `${COSTS[cost]}: ${label}`, xLabel: "epoch", series,
        xMin: 0, xMax: total, yMin: what === "output" ? 0 : undefined, yMax: what === "output" ? 1 : undefined });
    }
  }
  const rows = [];
  for (const cost of Object.keys(COSTS)) for (const start of Object.keys(STARTS)) {
    const r = results[`${start}-${cost}`], k = Math.min(upTo, r.epoch.length - 1);
    rows.push(`<tr><td>${STARTS[start]}, ${COSTS[cost]}</td><td>${r.settings.eta}</td><td>${r.w[k].toFixed(4)}</td>` +
      `<td>${r.b[k].toFixed(4)}</td><td>${r.output[k].toFixed(4)}</td><td>${r.cost[k].toFixed(4)}</td></tr>`);
  }
  $("values").querySelector("tbody").innerHTML = rows.join("");
  $("epoch").textContent = String(upTo);
  $("epoch").dataset.epoch = String(upTo);
}

async function run() {
  $("error").textContent = "";
  $("run").disabled = true;
  if (animation) cancelAnimationFrame(animation);
  document.body.dataset.state = "running";
  try {
    const keys = [];
    for (const start of Object.keys(STARTS)) for (const cost of Object.keys(COSTS)) keys.push([start, cost]);
    const data = await Promise.all(keys.map(([start, cost]) => trajectory(start, cost)));
    const results = {};
    keys.forEach(([start, cost], i) => { results[`${start}-${cost}`] = data[i]; });
    const total = data[0].epoch.length - 1;
    $("epoch-total").textContent = String(total);
    const began = performance.now(), duration = Math.min(4000, 600 + total * 8);
    const frame = (now) => {
      const upTo = Math.max(0, Math.min(total, Math.round((now - began) / duration * total)));
      draw(results, upTo);
      if (upTo < total) { animation = requestAnimationFrame(frame); return; }
      animation = null;
      $("run").disabled = false;
      document.body.dataset.state = "done";
    };
    animation = requestAnimationFrame(frame);
  } catch (err) {
    $("error").textContent = err.message;
    $("run").disabled = false;
    document.body.dataset.state = "error";
  }
}

$("run").addEventListener("click", run);
run();
