// Partner portal helpers: copy-to-clipboard buttons, and the overview chart (clicks as bars, earnings as lines).
(function () {
  function copy(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.dataset.copied = "true";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else {
      fallback(text);
      done();
    }
  }

  function fallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selectable on the page */ }
    document.body.removeChild(area);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy], [data-copy-target]");
    if (!button) return;
    var text = button.dataset.copy;
    if (text === undefined) {
      var target = document.querySelector(button.dataset.copyTarget);
      text = target ? (target.value !== undefined ? target.value : target.textContent) : "";
    }
    copy(text, button);
  });

  var COLORS = ["#16a34a", "#d97706", "#7c3aed", "#db2777"];
  function drawPerformance(canvas) {
    fetch(canvas.dataset.performanceUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (payload) {
        var datasets = [{ type: "bar", label: "Clicks", data: payload.clicks, backgroundColor: "#0172ad", yAxisID: "clicks" }];
        payload.earnings.forEach(function (series, i) {
          datasets.push({ type: "line", label: "Earnings (" + series.currency + ")", data: series.data,
            borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length], yAxisID: "earnings",
            tension: 0, pointRadius: 2 });
        });
        new Chart(canvas, {
          data: { labels: payload.labels, datasets: datasets },
          options: { maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
            scales: { clicks: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
              earnings: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } },
        });
        canvas.dataset.chartReady = "true";
      });
  }
  document.querySelectorAll("canvas[data-performance-url]").forEach(drawPerformance);
})();
