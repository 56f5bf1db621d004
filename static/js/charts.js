// Metric charts of the instance pages, drawn by uPlot (bundled by `make`, no CDN). Each chart box
// names a json_script element holding the series; a table of the same values sits beside it.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

// Colour and a dash pattern for each outcome, so lines can be told apart without colour too.
const OUTCOMES = [
  ["delivered", "Delivered", "#15803d", []],
  ["filtered", "Filtered", "#475569", [2, 4]],
  ["unsupported", "Unsupported", "#a16207", [8, 4]],
  ["rejected", "Rejected", "#c2410c", [2, 2, 8, 2]],
  ["retrying", "Retrying", "#7c3aed", [12, 4]],
  ["failed", "Failed", "#b91c1c", [4, 2]],
];
const DURATIONS = [
  ["duration_p50_ms", "p50 ms", "#1d4ed8", []],
  ["duration_p95_ms", "p95 ms", "#9333ea", [8, 4]],
  ["duration_p99_ms", "p99 ms", "#be123c", [2, 3]],
];

function draw(box) {
  const points = JSON.parse(document.getElementById(box.dataset.series).textContent);
  const lines = box.dataset.chart === "durations" ? DURATIONS : OUTCOMES;
  const data = [
    points.map((p) => Date.parse(p.time) / 1000),
    ...lines.map(([key]) => points.map((p) => p[key])),
  ];
  const options = {
    width: Math.max(box.clientWidth, 280),
    height: 200,
    series: [
      {},
      ...lines.map(([, label, stroke, dash]) => ({ label, stroke, dash, width: 2, spanGaps: false })),
    ],
    axes: [{}, { size: 56 }],
    scales: { y: { range: (u, min, max) => [0, Math.max(max || 0, 1)] } },
  };
  box.replaceChildren();
  new uPlot(options, data, box);
}

function drawAll(root) {
  for (const box of root.querySelectorAll("[data-chart]:not([data-drawn])")) {
    box.dataset.drawn = "1";
    draw(box);
  }
}

document.addEventListener("DOMContentLoaded", () => drawAll(document));
// htmx swaps in a new range: draw what it brought.
document.addEventListener("htmx:load", (event) => drawAll(event.target));
