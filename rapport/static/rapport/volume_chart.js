// The monthly volume bar chart of a client's purchase regularity (supervision), drawn with the vendored Chart.js
// from the data the panel carries in a json_script element — on load, and again whenever htmx redraws the panel.
(function () {
  "use strict";

  function draw(root) {
    if (typeof Chart === "undefined" || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("canvas[data-volume-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.volumeChart);
      if (canvas.dataset.drawn || !source) {
        return;
      }
      canvas.dataset.drawn = "1";
      var data = JSON.parse(source.textContent);
      var datasets = [
        {
          type: "bar",
          label: data.volume_label,
          data: data.volumes,
          backgroundColor: "rgba(32, 107, 196, 0.6)",
        },
      ];
      if (data.target !== null) {
        datasets.push({
          type: "line",
          label: data.target_label,
          data: data.labels.map(function () {
            return data.target;
          }),
          borderColor: "#d63939",
          borderDash: [4, 4],
          pointRadius: 0,
          fill: false,
        });
      }
      new Chart(canvas, {
        data: { labels: data.labels, datasets: datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          plugins: { legend: { display: data.target !== null } },
          scales: { y: { beginAtZero: true } },
        },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:load", function (event) {
    draw(event.target);
  });
})();
