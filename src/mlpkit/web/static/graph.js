// The computation graph page: the lecture's 2-layer network (or logistic regression) from POST /api/graph,
// drawn by the server as SVG; Forward step / Backward step / Reset walk the two passes one node at a time.
"use strict";

const $ = (id) => document.getElementById(id);
const SIZES = ["n_x", "n_h", "m", "seed"];
let data = null, byKey = {}, done = { forward: 0, backward: 0 };

const shapeText = (shape) => (shape.length ? `(${shape.join(", ")})` : "scalar");
const number = (v) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Number(v.toFixed(4))));

// a scalar as text, a vector or a matrix as a small table (rows as the lecture writes them)
function matrix(values) {
  const box = document.createElement("div");
  if (!Array.isArray(values)) {
    box.className = "mono";
    box.textContent = number(values);
    return box;
  }
  const table = document.createElement("table");
  table.className = "matrix mono";
  const rows = Array.isArray(values[0]) ? values : [values];
  for (const row of rows) {
    const tr = table.insertRow();
    for (const v of row) tr.insertCell().textContent = number(v);
  }
  box.appendChild(table);
  return box;
}

function maxDifference(a, b) {
  const flat = (x) => (Array.isArray(x) ? x.flat(Infinity) : [x]);
  const fa = flat(a), fb = flat(b);
  return Math.max(...fa.map((v, i) => Math.abs(v - fb[i])));
}

function nodeElement(key) {
  return $("graph").querySelector(`g.node[data-key="${key}"]`);
}

function setCurrent(key) {
  for (const g of $("graph").querySelectorAll("g.node.current, g.node.inspected")) g.classList.remove("current", "inspected");
  const element = nodeElement(key);
  if (element) element.classList.add("current");
  document.body.dataset.current = key ? byKey[key].name : "";
}

function show(key, heading) {
  const node = byKey[key], f = node.formula || {};
  const computed = nodeElement(key).classList.contains("computed");
  const differentiated = nodeElement(key).classList.contains("differentiated");
  $("step-title").textContent = heading;
  $("formula").textContent = f.forward || node.op;
  $("shapes").textContent = f.shapes || "";
  $("value-shape").textContent = `${node.name} ${shapeText(node.shape)}`;
  $("value-text").replaceChildren(computed ? matrix(node.value) : document.createTextNode(
    "not computed yet: the forward pass has not reached this node"));
  $("grad-name").textContent = node.name;
  $("grad-formula").textContent = differentiated ? (f.backward || "") : "";
  $("grad-shapes").textContent = differentiated ? (f.grad_shapes || "") : "";
  let text = "";
  if (node.grad === null) text = "no gradient: the data stays fixed, backpropagation does not need its derivative";
  else if (!differentiated) text = "not computed yet: the backward pass comes after the forward pass";
  $("grad-text").replaceChildren(differentiated && node.grad !== null ? matrix(node.grad) : document.createTextNode(text));
  $("grad-text").dataset.state = differentiated && node.grad !== null ? "computed" : "pending";
  $("check").textContent = differentiated && node.grad !== null && node.closed_form !== null
    ? `the lecture's closed form minus autodiff: largest difference ${maxDifference(node.grad, node.closed_form).toExponential(1)}`
    : "";
}

function progress() {
  const f = data.forward.length, b = data.backward.length;
  $("progress").textContent = `forward pass ${done.forward}/${f} · backward pass ${done.backward}/${b}`;
  $("forward").disabled = done.forward >= f;
  $("backward").disabled = done.forward < f || done.backward >= b;
  document.body.dataset.phase = done.forward < f ? "forward" : done.backward < b ? "backward" : "done";
  document.body.dataset.forward = String(done.forward);
  document.body.dataset.backward = String(done.backward);
}

function forwardStep() {
  if (done.forward >= data.forward.length) return;
  const key = data.forward[done.forward++];
  const element = nodeElement(key);
  element.classList.remove("pending");
  element.classList.add("computed");
  setCurrent(key);
  show(key, `Forward ${done.forward}/${data.forward.length}: ${byKey[key].name}`);
  progress();
}

function backwardStep() {
  if (done.forward < data.forward.length || done.backward >= data.backward.length) return;
  const key = data.backward[done.backward++];
  nodeElement(key).classList.add("differentiated");
  setCurrent(key);
  show(key, `Backward ${done.backward}/${data.backward.length}: d${byKey[key].name}`);
  progress();
}

function reset() {
  done = { forward: 0, backward: 0 };
  for (const g of $("graph").querySelectorAll("g.node")) {
    g.classList.remove("computed", "differentiated", "current");
    g.classList.add("pending");
  }
  setCurrent(null);
  $("step-title").textContent = "Press Forward step";
  for (const id of ["formula", "shapes", "value-shape", "grad-formula", "grad-shapes", "check"]) $(id).textContent = "";
  $("value-text").replaceChildren();
  $("grad-text").replaceChildren();
  $("grad-text").dataset.state = "pending";
  progress();
}

function shapesTable() {
  const body = $("shapes-table").tBodies[0];
  body.replaceChildren();
  for (const node of data.nodes) {
    const tr = body.insertRow();
    tr.dataset.key = node.key;
    const f = node.formula || {};
    for (const text of [node.name, shapeText(node.shape), f.forward || node.op, f.shapes || ""]) {
      tr.insertCell().textContent = text;
    }
  }
}

// the settings from the form, checked against the inputs' own bounds (the server checks them again)
function settings() {
  const body = { example: $("example").value };
  for (const id of SIZES) {
    const input = $(id), value = Number(input.value);
    const low = Number(input.min), high = input.max === "" ? Infinity : Number(input.max);
    if (input.value.trim() === "" || !Number.isInteger(value)) throw new Error(`${id} must be a whole number, got ${input.value}`);
    if (value < low || value > high) throw new Error(`${id} must be between ${low} and ${high}, got ${value}`);
    body[id] = value;
  }
  return body;
}

async function build() {
  $("error").textContent = "";
  let body;
  try {
    body = settings();
  } catch (error) {
    $("error").textContent = error.message;
    return;
  }
  document.body.dataset.phase = "loading";
  const response = await fetch("/api/graph", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) {
    $("error").textContent = answer.error;
    if (data) progress(); // the previous graph stays, where it was
    else document.body.dataset.phase = "error";
    return;
  }
  data = answer;
  byKey = Object.fromEntries(data.nodes.map((n) => [n.key, n]));
  const svg = new DOMParser().parseFromString(data.svg, "image/svg+xml").documentElement;
  $("graph").replaceChildren(document.importNode(svg, true));
  for (const g of $("graph").querySelectorAll("g.node")) {
    g.addEventListener("click", () => {
      for (const other of $("graph").querySelectorAll("g.node.inspected")) other.classList.remove("inspected");
      g.classList.add("inspected");
      show(g.dataset.key, `${byKey[g.dataset.key].name} (inspected)`);
    });
  }
  $("note").textContent = data.note;
  $("grad-of").textContent = data.nodes.find((n) => n.kind === "output").name;
  shapesTable();
  reset();
}

function toggleSizes() {
  const logistic = $("example").value === "logistic";
  $("n_h").disabled = logistic;
  $("m").disabled = logistic;
}

$("build").addEventListener("click", build);
$("example").addEventListener("change", () => { toggleSizes(); build(); });
$("forward").addEventListener("click", forwardStep);
$("backward").addEventListener("click", backwardStep);
$("reset").addEventListener("click", reset);
toggleSizes();
build();
