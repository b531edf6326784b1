/* The charts of a predictive model version's page (/scoring/models/v<N>/): ROC curve,
   calibration, cumulative gains and feature importance, drawn with Chart.js from the JSON the
   page carries in <script type="application/json" id="model-charts"> (no inline script: CSP). */
(function () {
  "use strict";

  function points(pairs) {
    return (pairs || []).map(function (p) { return { x: p[0], y: p[1] }; });
  }

  function diagonal(label) {
    return {
      label: label,
      data: [{ x: 0, y: 0 }, { x: 1, y: 1 }],
      borderColor: "#9ca3af",
      borderDash: [4, 4],
      pointRadius: 0,
      borderWidth: 1,
    };
  }

  function axes(xTitle, yTitle) {
    return {
      x: { type: "linear", min: 0, max: 1, title: { display: true, text: xTitle } },
      y: { type: "linear", min: 0, max: 1, title: { display: true, text: yTitle } },
    };
  }

  function line(id, datasets, xTitle, yTitle) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: { animation: false, parsing: false, scales: axes(xTitle, yTitle) },
    });
  }

  function draw() {
    var source = document.getElementById("model-charts");
    if (!source || !window.Chart) { return; }
    var charts = JSON.parse(source.textContent);
    line("chart-roc", [
      { label: "This model", data: points(charts.roc), borderColor: "#2563eb", pointRadius: 0, stepped: true },
      diagonal("Chance"),
    ], "False positive rate", "True positive rate");
    line("chart-gains", [
      { label: "This model", data: points(charts.gains), borderColor: "#16a34a", pointRadius: 0 },
      diagonal("Random order"),
    ], "Share of leads, highest probability first", "Share of conversions");
    var bands = charts.calibration || [];
    line("chart-calibration", [
      {
        label: "Observed rate by band",
        data: bands.map(function (b) { return { x: b.predicted, y: b.observed }; }),
        borderColor: "#dc2626",
        backgroundColor: "#dc2626",
        showLine: true,
        pointRadius: 4,
      },
      diagonal("Perfect calibration"),
    ], "Predicted probability", "Observed conversion rate");
    var importance = (charts.importance || []).slice(0, 15);
    var canvas = document.getElementById("chart-importance");
    if (canvas) {
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: importance.map(function (i) { return i.label; }),
          datasets: [{
            label: "Loss of ROC AUC when shuffled",
            data: importance.map(function (i) { return i.importance; }),
            backgroundColor: "#7c3aed",
          }],
        },
        options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } } },
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
