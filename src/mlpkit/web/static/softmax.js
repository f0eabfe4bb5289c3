// Softmax explorer: softmax(c z) as bars, hardmax as c grows, and the two-class case against the logistic function.
"use strict";

const $ = (id) => document.getElementById(id);
const IDS = ["z1", "z2", "z3", "z4"];

// softmax of c z, computed stably: subtract the largest c z_j before exponentiating
function softmax(z, c) {
  const s = z.map((v) => c * v), top = Math.max(...s);
  const e = s.map((v) => Math.exp(v - top)), total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}
const sigmoid = (z) => 1 / (1 + Math.exp(-z));

function update() {
  const z = IDS.map((id) => Number($(id).value));
  IDS.forEach((id, j) => { $(`${id}-out`).textContent = z[j].toFixed(1); });
  const c = Math.pow(10, Number($("logc").value));
  $("c-out").textContent = c < 10 ? c.toFixed(2) : c.toFixed(0);
  const a = softmax(z, c), best = a.indexOf(Math.max(...a));
  Plots.bars($("chart-softmax"), { labels: ["a1", "a2", "a3", "a4"], values: a, highlight: best, format: ".4f",
    xTitle: "output", yTitle: "softmax(c z)" });
  const sum = a.reduce((x, y) => x + y, 0);
  $("softmax-sum").textContent = sum.toFixed(6);
  $("softmax-sum").dataset.sum = String(sum);
  document.body.dataset.c = String(c);
  $("hardmax").textContent = `hardmax(z) = (${z.map((v, j) => (j === z.indexOf(Math.max(...z)) ? 1 : 0)).join(", ")})` +
    `   softmax(c z) = (${a.map((v) => v.toFixed(3)).join(", ")})`;
  updatePair();
}

function updatePair() {
  const z1 = Number($("p1").value), z2 = Number($("p2").value);
  $("p1-out").textContent = z1.toFixed(1);
  $("p2-out").textContent = z2.toFixed(1);
  const a1 = softmax([z1, z2], 1)[0], s = sigmoid(z1 - z2);
  $("pair-softmax").textContent = a1.toFixed(6);
  $("pair-softmax").dataset.value = String(a1);
  $("pair-sigmoid").textContent = s.toFixed(6);
  $("pair-sigmoid").dataset.value = String(s);
  const xs = Array.from({ length: 121 }, (_, i) => -6 + i * 0.1);
  Plots.line($("chart-logistic"), {
    xTitle: "z1 − z2", yTitle: "a1", yRange: [-0.02, 1.02], xRange: [-6, 6], hovermode: "closest",
    series: [
      { name: "σ(z1 − z2)", x: xs, y: xs.map(sigmoid), color: "#2563eb", mode: "lines" },
      { name: "softmax(z1, z2)₁ with z2 = 0", x: xs.filter((_, i) => i % 6 === 0),
        y: xs.filter((_, i) => i % 6 === 0).map((d) => softmax([d, 0], 1)[0]), color: "#d9480f", mode: "markers" },
      { name: "now", x: [z1 - z2], y: [a1], color: "#2b8a3e", mode: "markers", size: 12 },
    ],
  });
}

for (const id of [...IDS, "logc"]) $(id).addEventListener("input", update);
for (const id of ["p1", "p2"]) $(id).addEventListener("input", updatePair);
$("c-one").addEventListener("click", () => { $("logc").value = "0"; update(); });
$("c-big").addEventListener("click", () => { $("logc").value = "2"; update(); });
update();
