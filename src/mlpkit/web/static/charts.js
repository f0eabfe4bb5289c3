// mlpkit serve: small SVG charts (line charts with linear or log y axis, legends) written for these pages.
// Every series is one <path class="series" data-series="NAME" data-points="N">; the browser tests read them.
"use strict";

const Charts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 560, H = 310, M = { left: 58, right: 16, top: 44, bottom: 40 };
  const PALETTE = ["#2563eb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#495057"];

  function el(name, attrs, parent, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // "nice" tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten
  function ticks(lo, hi, count) {
    if (!(hi > lo)) { hi = lo + 1; }
    const raw = (hi - lo) / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  function format(v) {
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
    return String(Number(v.toPrecision(4)));
  }

  // options: {title, xLabel, yLabel, log (bool), xMin, xMax, yMin, yMax, series: [{name, x, y, color, dash, dots}]}
  function line(svg, options) {
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.classList.add("chart");
    const series = options.series || [];
    const log = !!options.log;
    const xs = series.flatMap((s) => s.x), ys = series.flatMap((s) => s.y).filter((v) => Number.isFinite(v) && (!log || v > 0));
    let x0 = options.xMin ?? Math.min(...xs, 0), x1 = options.xMax ?? Math.max(...xs, 1);
    let y0 = options.yMin ?? (ys.length ? Math.min(...ys) : 0), y1 = options.yMax ?? (ys.length ? Math.max(...ys) : 1);
    if (log) { y0 = Math.log10(y0 || 1e-3); y1 = Math.log10(y1 || 1); }
    if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
    if (!log && options.yMin === undefined) { const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad; }
    if (log) { y0 = Math.floor(y0); y1 = Math.ceil(y1); if (y1 === y0) y1 += 1; }
    if (x1 <= x0) x1 = x0 + 1;
    const px = (x) => M.left + (x - x0) / (x1 - x0) * (W - M.left - M.right);
    const py = (y) => H - M.bottom - ((log ? Math.log10(y) : y) - y0) / (y1 - y0) * (H - M.top - M.bottom);

    const yTicks = log ? Array.from({ length: y1 - y0 + 1 }, (_, i) => Math.pow(10, y0 + i)) : ticks(y0, y1, 5);
    for (const t of yTicks) {
      const y = py(t);
      el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: "grid" }, svg);
      el("text", { x: M.left - 6, y: y + 4, "text-anchor": "end" }, svg, format(t));
    }
    for (const t of ticks(x0, x1, 6)) {
      const x = px(t);
      el("line", { x1: x, x2: x, y1: H - M.bottom, y2: H - M.bottom + 4, class: "axis" }, svg);
      el("text", { x, y: H - M.bottom + 16, "text-anchor": "middle" }, svg, format(t));
    }
    el("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axis" }, svg);
    el("line", { x1: M.left, x2: M.left, y1: M.top - 6, y2: H - M.bottom, class: "axis" }, svg);
    if (options.title) el("text", { x: M.left, y: 16, class: "title" }, svg, options.title);
    if (options.xLabel) el("text", { x: (M.left + W - M.right) / 2, y: H - 6, "text-anchor": "middle" }, svg, options.xLabel);
    if (options.yLabel) el("text", { x: 12, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle",
      transform: `rotate(-90 12 ${(M.top + H - M.bottom) / 2})` }, svg, options.yLabel);

    let legendX = W - M.right;
    series.forEach((s, i) => {
      const color = s.color || PALETTE[i % PALETTE.length];
      const points = [];
      for (let k = 0; k < s.x.length; k++) {
        const y = s.y[k];
        if (Number.isFinite(y) && (!log || y > 0)) points.push([px(s.x[k]), py(y)]);
      }
      const d = points.map(([x, y], k) => `${k ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
      el("path", { d, class: "series", stroke: color, "data-series": s.name, "data-points": String(points.length),
        ...(s.dash ? { "stroke-dasharray": s.dash } : {}) }, svg);
      if (s.dots) for (const [x, y] of points) el("circle", { cx: x, cy: y, r: s.radius || 3, fill: color }, svg);
    });
    // legend, right-aligned on the line under the title
    for (let i = series.length - 1; i >= 0; i--) {
      const s = series[i], color = s.color || PALETTE[i % PALETTE.length];
      const label = el("text", { x: legendX, y: 32, "text-anchor": "end" }, svg, s.name);
      const width = label.getComputedTextLength ? label.getComputedTextLength() : s.name.length * 6;
      el("line", { x1: legendX - width - 20, x2: legendX - width - 5, y1: 28, y2: 28, stroke: color, "stroke-width": 3 }, svg);
      legendX -= width + 30;
    }
    return svg;
  }

  return { line, PALETTE };
})();
