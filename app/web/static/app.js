// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function copyText(button, text) {
    navigator.clipboard.writeText(text).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.classList.add("done");
      setTimeout(function () { button.textContent = label; button.classList.remove("done"); }, 1500);
    });
  }

  function setUpCopyButtons() {
    if (!navigator.clipboard) { return; }
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var from = button.getAttribute("data-copy-from");
        var text = from ? document.getElementById(from).textContent : button.getAttribute("data-copy");
        copyText(button, text);
      });
    });
  }

  var UNITS = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];

  function ago(date) {
    var seconds = Math.floor((Date.now() - date.getTime()) / 1000);
    if (seconds < 0) { return "in the future"; }
    for (var i = 0; i < UNITS.length; i++) {
      if (seconds >= UNITS[i][1]) {
        var n = Math.floor(seconds / UNITS[i][1]);
        return n + " " + UNITS[i][0] + (n === 1 ? "" : "s") + " ago";
      }
    }
    return "just now";
  }

  function refreshTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date)) { el.textContent = ago(date); }
    });
  }

  function drawCharts() {
    if (typeof uPlot === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var data = JSON.parse(box.getAttribute("data-chart"));
      var width = Math.max(280, box.clientWidth);
      var opts = {
        width: width,
        height: 220,
        legend: { show: false },
        // Half a week of room on each side, so the first and last bars show whole.
        scales: { x: { time: true, range: function (u, min, max) { return [min - 302400, max + 302400]; } } },
        // Whole commits only on the y axis.
        axes: [{}, { size: 44, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] }],
        series: [
          {},
          { label: box.getAttribute("data-label") || "commits", stroke: "#0b5cad",
            fill: "rgba(11, 92, 173, 0.35)", width: 1,
            paths: uPlot.paths.bars({ size: [0.8, 40] }), points: { show: false } }
        ]
      };
      box.textContent = "";
      var plot = new uPlot(opts, [data.x, data.y], box);
      window.addEventListener("resize", function () {
        plot.setSize({ width: Math.max(280, box.clientWidth), height: 220 });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpCopyButtons();
    refreshTimes();
    setInterval(refreshTimes, 60000);
    drawCharts();
  });
})();
