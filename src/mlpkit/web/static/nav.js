// The header of every page of mlpkit serve, from one list of pages. A page includes this script as the first
// element of its <body>; the script puts the header in its own place and marks the current page's link with
// aria-current="page" (styled in style.css). On a phone the links take their short names and wrap if need be.
"use strict";

(() => {
  // [address, name, short name for a phone's width]
  const PAGES = [
    ["/slowdown", "Learning slowdown", "Slowdown"],
    ["/softmax", "Softmax", "Softmax"],
    ["/dashboard", "Training dashboard", "Dashboard"],
    ["/draw", "Draw a digit", "Draw"],
    ["/playground", "Playground", "Playground"],
    ["/graph", "Autodiff graph", "Graph"],
  ];
  const here = window.location.pathname.replace(/\/+$/, "") || "/";
  const header = document.createElement("header");
  header.className = "site";
  const nav = document.createElement("nav");
  nav.setAttribute("aria-label", "mlpkit serve pages");
  const link = (href, text, short, className) => {
    const a = document.createElement("a");
    a.href = href;
    if (short === text) {
      a.textContent = text;
    } else {
      const full = document.createElement("span"), brief = document.createElement("span");
      full.className = "full";
      full.textContent = text;
      brief.className = "short";
      brief.textContent = short;
      a.append(full, brief);
    }
    if (className) a.className = className;
    if (href === here) a.setAttribute("aria-current", "page");
    nav.appendChild(a);
  };
  link("/", "mlpkit", "mlpkit", "brand");
  for (const [href, text, short] of PAGES) link(href, text, short);
  header.appendChild(nav);
  const script = document.currentScript;
  if (script && script.parentNode) script.replaceWith(header);
  else document.body.prepend(header);
})();
