// Charts of mlpkit serve, drawn with plotly.js (served by the app at /vendor/plotly.min.js from the installed
// plotly package). One look for every page: axis titles, a legend, hover values, 12 px text, and charts that
// follow their container's width (Plotly's responsive mode). Short series are drawn with markers, so the
// first epoch shows as a point; a chart with nothing to draw shows a sentence saying why instead of axes.
"use strict";

const Plots = (() => {
  const PALETTE = ["#2563eb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#495057"];
  const FONT = { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: "#1d2330" };
  // no tool bar (it covers the legend on a phone); drag to zoom, double-click to zoom back out
  const CONFIG = { responsive: true, displayModeBar: false, scrollZoom: false };
  // series with at most this many points get markers on their line
  const MARKERS_UP_TO = 40;

  // show `message` in place of a chart
  function empty(el, message) {
    if (el.dataset.state === "plot" && window.Plotly) Plotly.purge(el);
    const p = document.createElement("p");
    p.className = "chart-message";
    p.textContent = message;
    el.replaceChildren(p);
    el.dataset.state = "empty";
  }

  function draw(el, traces, layout) {
    if (!window.Plotly) { empty(el, "The charts need plotly: pip install 'mlpkit[web]'."); return; }
    if (el.dataset.state !== "plot") el.replaceChildren();
    el.dataset.state = "plot";
    Plotly.react(el, traces, layout, CONFIG);
  }

  function axis(title, extra) {
    return { title: { text: title || "", standoff: 6 }, automargin: true, zeroline: false, gridcolor: "#eef1f4",
      linecolor: "#8a94a3", tickfont: { size: 12 }, ...extra };
  }

  function baseLayout(options) {
    return { font: FONT, margin: { l: 8, r: 12, t: 8, b: 8 }, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "#fff",
      showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 12 } },
      hoverlabel: { font: { size: 12 } }, hovermode: options.hovermode || "x unified" };
  }

  const finite = (v) => typeof v === "number" && Number.isFinite(v);

  // a whole-number tick step (1, 2 or 5 times a power of ten) giving about six ticks over `span`
  function wholeStep(span) {
    const raw = Math.max(1, span / 6), power = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  }

  // Line chart. options: {xTitle, yTitle, log, percent (y values are fractions shown as %), xRange, yRange,
  // epochs (x is a whole number from 1 to `epochs`: whole-number ticks, half a step of margin on each side),
  // emptyMessage, hovermode, series: [{name, x, y, color, dash, mode, size, head (mark the last point)}]}
  function line(el, options) {
    const scale = options.percent ? 100 : 1;
    const traces = [];
    (options.series || []).forEach((s, i) => {
      const x = [], y = [];
      s.x.forEach((xv, k) => {
        const v = s.y[k];
        if (finite(v) && (!options.log || v > 0)) { x.push(xv); y.push(v * scale); }
      });
      if (!x.length) return;
      const color = s.color || PALETTE[i % PALETTE.length];
      // a long series gets one marker, on its last point (`head`), or none
      const dots = x.length <= MARKERS_UP_TO || s.head;
      const size = s.size || (x.length === 1 ? 9 : 6);
      traces.push({ type: "scatter", name: s.name, x, y, mode: s.mode || (dots ? "lines+markers" : "lines"),
        line: { color, width: 2, dash: s.dash || "solid" },
        marker: { color, size: s.head && x.length > MARKERS_UP_TO ? x.map((_, k) => (k === x.length - 1 ? 8 : 0)) : size },
        hovertemplate: options.percent ? "%{y:.2f}%" : "%{y:.4g}" });
    });
    if (!traces.length) { empty(el, options.emptyMessage || "Nothing to show yet."); return; }
    const yExtra = options.log ? { type: "log", exponentformat: "power" } : {};
    if (options.percent) yExtra.ticksuffix = "%";
    if (options.yRange) yExtra.range = options.yRange;
    const xExtra = options.xRange ? { range: options.xRange } : {};
    if (options.epochs !== undefined) {
      const last = Math.max(options.epochs, ...traces.map((t) => t.x[t.x.length - 1]), 1);
      Object.assign(xExtra, { range: [0.5, last + 0.5], tick0: 0, dtick: wholeStep(last),
        unifiedhovertitle: { text: "epoch %{x}" } });
    }
    const layout = { ...baseLayout(options),
      xaxis: axis(options.xTitle, xExtra),
      yaxis: axis(options.yTitle, yExtra) };
    draw(el, traces, layout);
  }

  // Bar chart. options: {labels, values, highlight (index drawn in the second colour), xTitle, yTitle, yRange,
  // emptyMessage, format (d3 format of the value shown on each bar)}
  function bars(el, options) {
    const values = options.values || [];
    if (!values.length) { empty(el, options.emptyMessage || "Nothing to show yet."); return; }
    const format = options.format || ".3f";
    const trace = { type: "bar", name: options.yTitle || "value", x: options.labels.map(String),
      y: values, marker: { color: values.map((_, i) => (i === options.highlight ? PALETTE[1] : PALETTE[0])) },
      texttemplate: `%{y:${format}}`, textposition: "outside",
      cliponaxis: false, hovertemplate: `%{x}: %{y:.6f}<extra></extra>` };
    const layout = { ...baseLayout({ hovermode: "closest" }), showlegend: false, bargap: 0.25,
      xaxis: axis(options.xTitle, { type: "category" }),
      yaxis: axis(options.yTitle, { range: options.yRange || [0, 1.12], tickvals: [0, 0.25, 0.5, 0.75, 1] }) };
    draw(el, [trace], layout);
  }

  return { line, bars, empty, PALETTE };
})();
