// Learning slowdown page: fetch the four trajectories from /api/neuron, then animate them epoch by epoch.
"use strict";

const COSTS = { quadratic: "quadratic cost", cross_entropy: "cross-entropy cost" };
const STARTS = { a: "start A", b: "start B" };
const COLORS = { a: "#2563eb", b: "#d9480f" };
const $ = (id) => document.getElementById(id);
let animation = null;
// the animation redraws the four charts at most this often (ms)
const FRAME_MS = 50;

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

// the curves up to epoch `upTo`, on axes fixed for the whole run (the y range of a cost covers all its values)
function draw(results, upTo) {
  for (const cost of Object.keys(COSTS)) {
    for (const [what, label] of [["cost", "cost C"], ["output", "output a"]]) {
      const series = Object.keys(STARTS).map((start) => {
        const r = results[`${start}-${cost}`];
        return { name: STARTS[start], color: COLORS[start], head: true,
          x: r.epoch.slice(0, upTo + 1), y: r[what].slice(0, upTo + 1) };
      });
      const total = results[`a-${cost}`].epoch.length - 1;
      const top = Math.max(...Object.keys(STARTS).map((start) => Math.max(...results[`${start}-${cost}`][what])));
      Plots.line($(`chart-${cost}-${what}`), { xTitle: "epoch", yTitle: label, series, xRange: [0, Math.max(1, total)],
        yRange: what === "output" ? [0, 1] : [0, 1.05 * top || 1] });
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
    let drawn = -Infinity;
    const frame = (now) => {
      const upTo = Math.max(0, Math.min(total, Math.round((now - began) / duration * total)));
      if (upTo < total && now - drawn < FRAME_MS) { animation = requestAnimationFrame(frame); return; }
      drawn = now;
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
