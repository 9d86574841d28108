"""The HTML, CSS and JavaScript of the interactive page (filled in by ``page.py``).

Kept as a Python string, not a data file, so it ships with the package however
it is installed. No external resources: the page must open offline.
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="chainrule.viz.html">
<title>%%TITLE%%</title>
<style>
  :root { --fwd: #1b5e20; --bwd: #c62828; --ink: #263238; --muted: #546e7a;
          --note: #a64b00; --accent: #e65100; }
  body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
         margin: 0; background: #fafafa; }
  header { padding: 10px 18px 8px; background: #fff; border-bottom: 1px solid #e0e0e0;
           position: sticky; top: 0; z-index: 2; }
  h1 { font-size: 18px; margin: 0 0 8px; font-weight: 600; }
  .controls { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
  button { font-size: 14px; padding: 5px 12px; border-radius: 6px; border: 1px solid #78909c;
           background: #fff; color: var(--ink); cursor: pointer; }
  button:hover:not(:disabled) { background: #eceff1; }
  button:disabled { opacity: .45; cursor: default; }
  button:focus-visible, .edge:focus-visible { outline: 3px solid #1565c0; outline-offset: 2px; }
  #next { background: #1565c0; color: #fff; border-color: #1565c0; }
  #next:disabled { background: #607d8b; border-color: #607d8b; }
  #phase { font-size: 12px; font-weight: 600; padding: 3px 8px; border-radius: 10px;
           background: #eceff1; text-transform: uppercase; letter-spacing: .04em; }
  body[data-phase="forward"] #phase { background: #e8f5e9; color: #1b5e20; }
  body[data-phase="backward"] #phase { background: #ffebee; color: #b71c1c; }
  #step-text { margin: 8px 0 2px; font-size: 16px; min-height: 1.4em; overflow-wrap: anywhere;
               font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
  #edge-info { font-size: 13px; color: var(--muted); min-height: 1.2em; margin: 2px 0 0;
               font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
               overflow-wrap: anywhere; }
  .hint { color: var(--muted); font-size: 12px; }
  .note { color: var(--note); margin: 4px 0; }
  main { padding: 12px 18px; }
  #canvas { overflow: auto; background: #fff; border: 1px solid #e0e0e0; border-radius: 8px;
            max-height: 78vh; }
  svg { display: block; }
  .node .box { fill: #fff; stroke: #78909c; stroke-width: 1.3; }
  .node.param .box { fill: #f1f8e9; stroke: #558b2f; }
  .node.const .box { fill: #f5f5f5; stroke: #9e9e9e; }
  .node.group .box { fill: #fff8e1; stroke: #ef6c00; }
  .node.op:not(.computed) .box, .node.group:not(.computed) .box { stroke-dasharray: 4 3;
           fill: #fcfcfc; }
  .node.computed.op .box { fill: #e3f2fd; stroke: #1565c0; }
  .node.active .box, .node.active.computed.op .box { stroke: var(--accent); stroke-width: 3.5; }
  .node text { text-anchor: middle; font-size: 13px; fill: var(--ink); }
  .node .label { font-weight: 700; font-size: 14px; }
  .node .sub { fill: var(--muted); font-size: 12px; }
  .node .num, .node .unknown { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; }
  .node .small { font-family: "DejaVu Sans Mono", Menlo, monospace; font-size: 10.5px; }
  .node .grad text { fill: var(--bwd); font-weight: 600; }
  .node .sum { fill: var(--bwd); font-weight: 600; }
  .node .unknown { fill: var(--muted); }
  .node:not(.computed) .value, .node.computed .unknown { display: none; }
  .node:not(.has-grad) .grad, .node .sum { display: none; }
  .node.active.has-grad.summing .grad { display: none; }
  .node.active.has-grad.summing .sum { display: inline; }
  .edge path { fill: none; }
  .edge .line { stroke: #90a4ae; stroke-width: 1.6; }
  .edge .hit { stroke: transparent; stroke-width: 12; cursor: pointer; }
  .edge.nograd .line { stroke-dasharray: 3 3; }
  .edge.active-fwd .line { stroke: var(--fwd); stroke-width: 3; }
  .edge.active-bwd .line { stroke: var(--bwd); stroke-width: 3; stroke-dasharray: 8 3; }
  .edge.selected .line { stroke: #1565c0; stroke-width: 3; }
  .elabel text { text-anchor: middle; font-size: 12px; font-weight: 600;
                 font-family: "DejaVu Sans Mono", Menlo, monospace; paint-order: stroke;
                 stroke: #fff; stroke-width: 6px; pointer-events: none; }
  .elabel .evalue { fill: var(--fwd); }
  .elabel .egrad, .elabel .elit { fill: var(--bwd); }
  .dot-fwd { fill: var(--fwd); } .dot-bwd { fill: var(--bwd); }
  .legend { font-size: 13px; color: var(--muted); margin: 6px 0; }
  .legend b.f { color: var(--fwd); } .legend b.b { color: var(--bwd); }
  details { margin-top: 14px; background: #fff; border: 1px solid #e0e0e0; border-radius: 8px;
            padding: 8px 14px; }
  details table { border-collapse: collapse; font-size: 13px; }
  details td, details th { border-bottom: 1px solid #eee; padding: 2px 10px; text-align: left; }
  /* phones: one short header line, so the graph keeps most of the screen */
  @media (max-width: 640px) {
    header { padding: 6px 8px 4px; }
    h1 { font-size: 13px; margin: 0 0 4px; white-space: nowrap; overflow: hidden;
         text-overflow: ellipsis; }
    .controls { gap: 4px; }
    button { font-size: 13px; padding: 3px 8px; }
    .hint .keys { display: none; }
    #step-text { font-size: 13px; margin: 4px 0 0; max-height: 4.2em; overflow-y: auto; }
    #edge-info { font-size: 12px; max-height: 2.6em; overflow-y: auto; }
    main { padding: 6px 6px; }
    .legend { font-size: 12px; }
    #canvas { max-height: 70vh; }
  }
  @media (prefers-reduced-motion: reduce) { .flow { display: none; } }
</style>
</head>
<body data-step="0" data-phase="start">
<header>
  <h1>%%TITLE%%</h1>
  <div class="controls">
    <button id="reset" title="first step (Home)" aria-label="first step">&laquo;<span class="wide"> Start</span></button>
    <button id="prev" title="previous step (&#x2190;)" aria-label="previous step">&#x25C0;<span class="wide"> Prev</span></button>
    <button id="next" title="next step (&#x2192; or space)" aria-label="next step">Next &#x25B6;</button>
    <button id="end" title="last step (End)" aria-label="last step"><span class="wide">End </span>&raquo;</button>
    <button id="zoom-out" title="zoom out (-)" aria-label="zoom out">&minus;</button>
    <button id="fit" title="fit the graph to the width (0)" aria-label="fit to width">fit</button>
    <button id="zoom-in" title="zoom in (+)" aria-label="zoom in">+</button>
    <span id="phase">start</span>
    <span class="hint">step <span id="step-index">0</span>/<span id="step-count">0</span><span class="keys">
      &middot; keys: &#x2190; &#x2192; space Home End + &minus; 0; Tab to an edge for its local derivative</span></span>
  </div>
  <div id="step-text" aria-live="polite"></div>
  <div id="edge-info" aria-live="polite"></div>
</header>
<main>
  %%NOTES%%
  <div class="legend">Inputs on the left, the output on the right. Forward steps send
    <b class="f">values</b> (above each edge) along the edges; backward steps send
    <b class="b">gradients</b> (below each edge, marked &ldquo;grad&rdquo;) back: each lit
    edge shows upstream gradient &times; local derivative = what it sends, and each node's
    gradient is the sum over its children. Tap, click or Tab to an edge for its local
    derivative &part;c/&part;a.</div>
  <div id="canvas">%%SVG%%</div>
  <details><summary>The whole explanation (forward table, backward pass, paths)</summary>
  %%EXPLANATION%%
  </details>
</main>
<script type="application/json" id="chainrule-data">%%DATA%%</script>
<script>
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("chainrule-data").textContent);
  var N = D.steps.length, k = 0, zoom = 1;
  var SVGNS = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  var svg = $("chainrule-graph");
  var W = +svg.getAttribute("width"), H = +svg.getAttribute("height");

  function flow(edge, backward) {
    // a dot that travels the edge: forward from input to output, backward the other way
    var path = $("edge-path-" + edge.id);
    if (!path || !path.getTotalLength) return;
    var c = document.createElementNS(SVGNS, "circle");
    c.setAttribute("r", "5");
    c.setAttribute("class", backward ? "dot-bwd flow" : "dot-fwd flow");
    var a = document.createElementNS(SVGNS, "animateMotion");
    a.setAttribute("dur", "0.7s");
    a.setAttribute("fill", "freeze");
    a.setAttribute("begin", "indefinite");
    a.setAttribute("path", path.getAttribute("d"));
    if (backward) { a.setAttribute("keyPoints", "1;0"); a.setAttribute("keyTimes", "0;1");
                    a.setAttribute("calcMode", "linear"); }
    c.appendChild(a);
    svg.appendChild(c);
    try { a.beginElement(); } catch (err) { /* no SMIL: the highlight is enough */ }
    setTimeout(function () { if (c.parentNode) c.parentNode.removeChild(c); }, 900);
  }

  function setZoom(z) {
    zoom = Math.max(0.2, Math.min(4, z));
    svg.setAttribute("width", String(Math.round(W * zoom)));
    svg.setAttribute("height", String(Math.round(H * zoom)));
    centre();
  }
  function fit() {
    var avail = $("canvas").clientWidth - 2;
    setZoom(Math.min(1, avail / W));
  }
  function centre() {
    // bring the node being computed to the middle of the canvas
    var st = D.steps[k], canvas = $("canvas");
    if (st.box === null) return;
    var b = D.boxes[st.box];
    var cx = (b.x + b.w / 2) * zoom, cy = (b.y + b.h / 2) * zoom;
    canvas.scrollLeft = Math.max(0, cx - canvas.clientWidth / 2);
    canvas.scrollTop = Math.max(0, cy - canvas.clientHeight / 2);
    var r = canvas.getBoundingClientRect(), head = document.querySelector("header");
    var hb = head.getBoundingClientRect().bottom;
    if (r.top < hb || r.top > window.innerHeight * 0.5) {
      window.scrollBy(0, r.top - hb - 4);   // the canvas itself in view, under the header
    }
  }

  function render(animate) {
    var st = D.steps[k];
    document.body.dataset.step = String(k);
    document.body.dataset.phase = st.kind;
    D.boxes.forEach(function (b) {
      var el = $("node-" + b.id);
      var bwdDone = b.bwd !== null && b.bwd <= k;
      el.classList.toggle("computed", b.fwd <= k);
      el.classList.toggle("has-grad", bwdDone);
      el.classList.toggle("active", st.box === b.id);
      el.classList.toggle("summing", st.kind === "backward" && st.box === b.id && !!b.sum);
    });
    D.edges.forEach(function (e) {
      var el = $("edge-" + e.id), lab = $("elabel-" + e.id);
      var src = D.boxes[e.src], dst = D.boxes[e.dst];
      var fwdOn = st.kind === "forward" && st.box === e.dst;
      var bwdOn = st.kind === "backward" && st.box === e.src && e.contrib !== null;
      var sent = src.bwd !== null && src.bwd <= k && e.contrib !== null;
      lab.querySelector(".evalue").textContent = dst.fwd <= k ? e.value : "";
      lab.querySelector(".egrad").textContent = sent && !bwdOn ? e.contrib : "";
      lab.querySelector(".elit").textContent = bwdOn ? e.lit : "";
      el.classList.toggle("active-fwd", fwdOn);
      el.classList.toggle("active-bwd", bwdOn);
      if (animate && (fwdOn || bwdOn)) flow(e, bwdOn);
    });
    $("step-text").textContent = st.text;
    $("step-index").textContent = String(k);
    $("step-count").textContent = String(N - 1);
    $("phase").textContent = st.kind === "done" ? "done" : st.kind;
    $("prev").disabled = $("reset").disabled = k === 0;
    $("next").disabled = $("end").disabled = k === N - 1;
    centre();
  }
  function go(to, animate) { k = Math.max(0, Math.min(N - 1, to)); render(animate); }
  function select(e) {
    D.edges.forEach(function (o) { $("edge-" + o.id).classList.toggle("selected", o === e); });
    $("edge-info").textContent = e.info;
  }
  D.edges.forEach(function (e) {
    var el = $("edge-" + e.id);
    el.addEventListener("focus", function () { select(e); });
    el.addEventListener("click", function () { select(e); });
  });
  $("next").addEventListener("click", function () { go(k + 1, true); });
  $("prev").addEventListener("click", function () { go(k - 1, false); });
  $("reset").addEventListener("click", function () { go(0, false); });
  $("end").addEventListener("click", function () { go(N - 1, false); });
  $("zoom-in").addEventListener("click", function () { setZoom(zoom * 1.25); });
  $("zoom-out").addEventListener("click", function () { setZoom(zoom / 1.25); });
  $("fit").addEventListener("click", fit);
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === "ArrowRight" || ev.key === " " || ev.key === "n") { go(k + 1, true); }
    else if (ev.key === "ArrowLeft" || ev.key === "p") { go(k - 1, false); }
    else if (ev.key === "Home") { go(0, false); }
    else if (ev.key === "End") { go(N - 1, false); }
    else if (ev.key === "+" || ev.key === "=") { setZoom(zoom * 1.25); }
    else if (ev.key === "-") { setZoom(zoom / 1.25); }
    else if (ev.key === "0") { fit(); }
    else return;
    ev.preventDefault();
  });
  go(0, false);
})();
</script>
</body>
</html>
"""
