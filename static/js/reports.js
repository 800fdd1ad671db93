// Report charts: each <canvas data-report-url> fetches the reports JSON API (session auth) and draws clicks and
// one money column over time (line) or per group (bars). Redrawn after htmx swaps the report panel.
(function () {
  // Tick and tooltip numbers the page language's way ("1 000" in Polish), not the browser's.
  if (window.Chart) Chart.defaults.locale = document.documentElement.lang || "en";
  function draw(canvas) {
    if (canvas.dataset.chartReady) return;
    canvas.dataset.chartReady = "pending";
    fetch(canvas.dataset.reportUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (report) {
        var metric = canvas.dataset.reportMetric;
        var rows = report.rows.slice(0, 50);
        new Chart(canvas, {
          type: canvas.dataset.reportKind || "bar",
          data: {
            labels: rows.map(function (row) { return row.label || canvas.dataset.labelNone; }),
            datasets: [
              { label: canvas.dataset.labelClicks, data: rows.map(function (row) { return row.clicks; }), yAxisID: "y",
                borderColor: "#0172ad", backgroundColor: "#0172ad", tension: 0.25, pointRadius: 0 },
              { label: (canvas.dataset.reportMetricLabel || metric.charAt(0).toUpperCase() + metric.slice(1)) + " (" + report.currency + ")",
                data: rows.map(function (row) { return Number(row[metric] || 0); }), yAxisID: "money",
                borderColor: "#2e7d32", backgroundColor: "#2e7d32", tension: 0.25, pointRadius: 0 },
            ],
          },
          options: { maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
            scales: { y: { beginAtZero: true, ticks: { precision: 0 }, position: "left" },
                      money: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
        });
        canvas.dataset.chartReady = "true";
      })
      .catch(function () { canvas.dataset.chartReady = "error"; });
  }
  function drawAll() { document.querySelectorAll("canvas[data-report-url]").forEach(draw); }
  document.addEventListener("htmx:afterSwap", drawAll);
  drawAll();
})();
