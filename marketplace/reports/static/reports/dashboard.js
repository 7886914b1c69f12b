// Officials' dashboard: draw each chart from the JSON the page embeds (json_script).
// The tables beside the charts hold the same numbers; without Chart.js the page shows them alone.
(function () {
  "use strict";
  var root = document.querySelector(".dashboard");
  var source = document.getElementById("dashboard-data");
  if (!root || !source) return;
  if (!window.Chart) {
    root.classList.add("no-charts");
    return;
  }
  var data = JSON.parse(source.textContent);
  var text = data.text;
  var green = "#1f7a4d", greens = ["#1f7a4d", "#31a354", "#74c476", "#a1d99b", "#c7e9c0", "#f4c95d", "#e8891c", "#7b6cae", "#3f88c5", "#999999"];
  var money = new Intl.NumberFormat("vi-VN");
  var moneyTick = { callback: function (value) { return money.format(value); } };

  function draw(name, config) {
    var canvas = root.querySelector('canvas[data-chart="' + name + '"]');
    if (!canvas) return;
    var series = data[name];
    if (!series || !series.labels.length) {
      canvas.parentElement.style.display = "none";
      return;
    }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    new window.Chart(canvas, config);
  }

  function bars(name, horizontal) {
    var series = data[name];
    var canvas = root.querySelector('canvas[data-chart="' + name + '"]');
    if (horizontal && canvas) {
      // One readable row per bar: long lists (every ward of the city) grow the chart.
      canvas.parentElement.style.height = Math.max(160, 24 * series.labels.length + 40) + "px";
    }
    draw(name, {
      type: "bar",
      data: { labels: series.labels, datasets: [{ label: text.gross, data: series.gross, backgroundColor: green }] },
      options: {
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: horizontal
          ? { x: { ticks: moneyTick }, y: { ticks: { autoSkip: false } } }
          : { y: { ticks: moneyTick } },
      },
    });
  }

  var timeline = data.timeline;
  draw("timeline", {
    type: "bar",
    data: {
      labels: timeline.labels,
      datasets: [
        { type: "bar", label: text.gross, data: timeline.gross, backgroundColor: green, yAxisID: "y" },
        { type: "line", label: text.orders, data: timeline.orders, borderColor: "#e8891c", backgroundColor: "#e8891c", yAxisID: "y1" },
      ],
    },
    options: {
      scales: {
        y: { position: "left", ticks: moneyTick },
        y1: { position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0 } },
      },
    },
  });
  bars("categories", true);
  bars("wards", true);
  bars("products", true);
  bars("households", true);
  var payments = data.payments;
  draw("payments", {
    type: "doughnut",
    data: { labels: payments.labels, datasets: [{ label: text.gross, data: payments.gross, backgroundColor: greens }] },
  });
  var prices = data.prices;
  draw("prices", {
    type: "line",
    data: {
      labels: prices.labels,
      datasets: [
        { label: text.max, data: prices.max, borderColor: "rgba(31,122,77,0.3)", backgroundColor: "rgba(31,122,77,0.12)", fill: "+1", pointRadius: 0 },
        { label: text.min, data: prices.min, borderColor: "rgba(31,122,77,0.3)", backgroundColor: "rgba(31,122,77,0.12)", fill: false, pointRadius: 0 },
        { label: text.avg, data: prices.avg, borderColor: green, backgroundColor: green, fill: false },
      ],
    },
    options: { scales: { y: { ticks: moneyTick } } },
  });
})();
