// Draws every <canvas data-chart-url> with Chart.js from its JSON endpoint: {label, labels, data}.
(function () {
  // Tick and tooltip numbers the page language's way ("1 000" in Polish), not the browser's.
  if (window.Chart) Chart.defaults.locale = document.documentElement.lang || "en";
  function draw(canvas) {
    fetch(canvas.dataset.chartUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (payload) {
        new Chart(canvas, {
          type: canvas.dataset.chartType || "bar",
          data: { labels: payload.labels, datasets: [{ label: payload.label, data: payload.data, backgroundColor: "#0172ad" }] },
          options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
            scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
        });
        canvas.dataset.chartReady = "true";
      });
  }
  document.querySelectorAll("canvas[data-chart-url]").forEach(draw);
})();
