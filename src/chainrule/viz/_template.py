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
  :root { --fwd: #2e7d32; --bwd: #c62828; --ink: #263238; --muted: #78909c; }
  body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
         margin: 0; background: #fafafa; }
  header { padding: 14px 22px 8px; background: #fff; border-bottom: 1px solid #e0e0e0;
           position: sticky; top: 0; z-index: 2; }
  h1 { font-size: 18px; margin: 0 0 8px; font-weight: 600; }
  .controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  button { font-size: 14px; padding: 5px 14px; border-radius: 6px; border: 1px solid #b0bec5;
           background: #fff; cursor: pointer; }
  button:hover:not(:disabled) { background: #eceff1; }
  button:disabled { opacity: .4; cursor: default; }
  #next { background: #1565c0; color: #fff; border-color: #1565c0; }
  #next:disabled { background: #90a4ae; border-color: #90a4ae; }
  #phase { font-size: 12px; font-weight: 600; padding: 3px 8px; border-radius: 10px;
           background: #eceff1; text-transform: uppercase; letter-spacing: .04em; }
  body[data-phase="forward"] #phase { background: #e8f5e9; color: var(--fwd); }
  body[data-phase="backward"] #phase { background: #ffebee; color: var(--bwd); }
  #step-text { margin: 10px 0 2px; font-size: 17px; min-height: 1.4em;
               font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
  .hint { color: var(--muted); font-size: 12px; }
  .note { color: #ef6c00; margin: 4px 0; }
  main { padding: 14px 22px; }
  #canvas { overflow: auto; background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; }
  svg { display: block; }
  .node rect { fill: #fff; stroke: #90a4ae; stroke-width: 1.3; transition: all .25s; }
  .node.param rect { fill: #f1f8e9; stroke: #558b2f; }
  .node.const rect { fill: #f5f5f5; stroke: #bdbdbd; }
  .node.group rect { fill: #fff8e1; stroke: #ef6c00; }
  .node.op:not(.computed) rect, .node.group:not(.computed) rect { stroke-dasharray: 4 3;
           fill: #fcfcfc; }
  .node.computed.op rect { fill: #e3f2fd; stroke: #1565c0; }
  .node.active rect { stroke: #ff6f00; stroke-width: 3.5; filter: drop-shadow(0 0 6px #ffb300); }
  .node text { text-anchor: middle; font-size: 13px; }
  .node .label { font-weight: 700; }
  .node .sub { font-weight: 400; fill: var(--muted); font-size: 11px; }
  .node .value { fill: var(--ink); font-family: "DejaVu Sans Mono", Menlo, monospace;
                 font-size: 12px; }
  .node .grad { fill: var(--bwd); font-family: "DejaVu Sans Mono", Menlo, monospace;
                font-size: 12px; font-weight: 600; }
  .edge path { fill: none; stroke: #b0bec5; stroke-width: 1.6; transition: stroke .25s; }
  .edge.nograd path { stroke-dasharray: 3 3; }
  .edge text { text-anchor: middle; font-size: 12px; font-weight: 600;
               font-family: "DejaVu Sans Mono", Menlo, monospace; paint-order: stroke;
               stroke: #fff; stroke-width: 4px; }
  .edge .evalue { fill: var(--fwd); }
  .edge .egrad { fill: var(--bwd); }
  .edge.active-fwd path { stroke: var(--fwd); stroke-width: 3; }
  .edge.active-bwd path { stroke: var(--bwd); stroke-width: 3; }
  .dot-fwd { fill: var(--fwd); } .dot-bwd { fill: var(--bwd); }
  .legend { font-size: 12px; color: var(--muted); margin: 8px 0; }
  .legend b.f { color: var(--fwd); } .legend b.b { color: var(--bwd); }
  details { margin-top: 14px; background: #fff; border: 1px solid #e0e0e0; border-radius: 8px;
            padding: 8px 14px; }
  details table { border-collapse: collapse; font-size: 13px; }
  details td, details th { border-bottom: 1px solid #eee; padding: 2px 10px; text-align: left; }
</style>
</head>
<body data-step="0" data-phase="start">
<header>
  <h1>%%TITLE%%</h1>
  <div class="controls">
    <button id="reset" title="first step (Home)">&laquo; Start</button>
    <button id="prev" title="previous step (&#x2190;)">&#x25C0; Prev</button>
    <button id="next" title="next step (&#x2192; or space)">Next &#x25B6;</button>
    <button id="end" title="last step (End)">End &raquo;</button>
    <span id="phase">start</span>
    <span class="hint">step <span id="step-index">0</span> of <span id="step-count">0</span>
      &middot; keys: &#x2190; &#x2192; space Home End</span>
  </div>
  <div id="step-text" aria-live="polite"></div>
</header>
<main>
  %%NOTES%%
  <div class="legend">Inputs on the left, the output on the right. Forward steps send
    <b class="f">values</b> along the edges; backward steps send
    <b class="b">gradients</b> back: each node's gradient is the sum over its children of
    (child's gradient &times; local derivative). Hover an edge for its local derivative.</div>
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
  var N = D.steps.length, k = 0;
  var SVGNS = "http://www.w3.org/2000/svg";
  var $ = function (id) { return document.getElementById(id); };
  function clip(s, n) { return s.length <= n ? s : s.slice(0, n - 1) + "\\u2026"; }

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
    $("chainrule-graph").appendChild(c);
    try { a.beginElement(); } catch (err) { /* no SMIL: the highlight is enough */ }
    setTimeout(function () { if (c.parentNode) c.parentNode.removeChild(c); }, 900);
  }

  function render(animate) {
    var st = D.steps[k];
    document.body.dataset.step = String(k);
    document.body.dataset.phase = st.kind;
    D.boxes.forEach(function (b) {
      var el = $("node-" + b.id);
      var fwdDone = b.fwd <= k;
      var bwdDone = b.bwd !== null && b.bwd <= k;
      el.classList.toggle("computed", fwdDone);
      el.classList.toggle("has-grad", bwdDone);
      el.classList.toggle("active", st.box === b.id);
      el.querySelector(".value").textContent = fwdDone ? clip(b.value, 24) : "?";
      el.querySelector(".grad").textContent = bwdDone ? clip("grad " + b.grad, 24) : "";
    });
    D.edges.forEach(function (e) {
      var el = $("edge-" + e.id);
      var src = D.boxes[e.src], dst = D.boxes[e.dst];
      var fwdOn = st.kind === "forward" && st.box === e.dst;
      var bwdOn = st.kind === "backward" && st.box === e.src && e.contrib !== null;
      el.querySelector(".evalue").textContent = dst.fwd <= k ? clip(e.value, 22) : "";
      el.querySelector(".egrad").textContent =
        (src.bwd !== null && src.bwd <= k && e.contrib !== null) ? clip(e.contrib, 22) : "";
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
  }
  function go(to, animate) { k = Math.max(0, Math.min(N - 1, to)); render(animate); }
  $("next").addEventListener("click", function () { go(k + 1, true); });
  $("prev").addEventListener("click", function () { go(k - 1, false); });
  $("reset").addEventListener("click", function () { go(0, false); });
  $("end").addEventListener("click", function () { go(N - 1, false); });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === "ArrowRight" || ev.key === " " || ev.key === "n") { go(k + 1, true); }
    else if (ev.key === "ArrowLeft" || ev.key === "p") { go(k - 1, false); }
    else if (ev.key === "Home") { go(0, false); }
    else if (ev.key === "End") { go(N - 1, false); }
    else return;
    ev.preventDefault();
  });
  go(0, false);
})();
</script>
</body>
</html>
"""
