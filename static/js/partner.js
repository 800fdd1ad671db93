// Partner portal helpers: copy-to-clipboard buttons, and the overview chart (clicks as bars, earnings as lines).
(function () {
  // Tick and tooltip numbers the page language's way ("1 000" in Polish), not the browser's.
  if (window.Chart) Chart.defaults.locale = document.documentElement.lang || "en";
  function copy(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = button.dataset.copiedLabel;
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

  // A refused action answers 400 with the fragment that explains why: show it (htmx skips 4xx bodies by default).
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // An apply button of a program that closed since the page loaded (404): say so in its cell.
  document.addEventListener("htmx:responseError", function (event) {
    var cell = event.detail.elt.closest(".apply-cell");
    if (!cell || event.detail.xhr.status !== 404) return;
    var message = document.createElement("p");
    message.className = "message error";
    message.textContent = cell.dataset.closedMessage;
    cell.appendChild(message);
  });

  var COLORS = ["#16a34a", "#d97706", "#7c3aed", "#db2777"];
  function drawPerformance(canvas) {
    fetch(canvas.dataset.performanceUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (payload) {
        var datasets = [{ type: "bar", label: canvas.dataset.labelClicks, data: payload.clicks, backgroundColor: "#0172ad", yAxisID: "clicks" }];
        payload.earnings.forEach(function (series, i) {
          datasets.push({ type: "line", label: canvas.dataset.labelEarnings + " (" + series.currency + ")", data: series.data,
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
