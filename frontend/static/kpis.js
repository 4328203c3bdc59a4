/* Charts of the supervision pages (cockpit, platform overview), drawn with ECharts (from npm, served by the app).
 * Each chart is drawn from the table inside its <figure class="kpi-chart">: the table is the data and the
 * accessible version, the chart a picture of it (aria-hidden). A chart inside a closed <details> is drawn when the
 * details open. No inline script or style: the page's markup carries data attributes only. */
(function () {
  "use strict";

  function number(text) {
    var value = parseFloat(String(text || "").replace("%", ""));
    return isNaN(value) ? null : value;
  }

  function draw(figure) {
    var canvas = figure.querySelector(".chart-canvas");
    var table = figure.querySelector("table");
    if (figure.getAttribute("data-drawn") || !window.echarts || !canvas || !table || canvas.offsetWidth === 0) {
      return;
    }
    var labels = [];
    var values = [];
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var cells = row.querySelectorAll("th, td");
      if (cells.length < 2) {
        return;
      }
      labels.push(cells[0].textContent.trim());
      var cell = cells[1];
      values.push(number(cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent));
    });
    var target = number(figure.getAttribute("data-target"));
    var series = {type: figure.getAttribute("data-chart") || "line", data: values, connectNulls: false,
      itemStyle: {color: "#0b5cad"}};
    if (target !== null) {
      series.markLine = {symbol: "none", silent: true, data: [{yAxis: target}],
        label: {formatter: target + "%"}, lineStyle: {type: "dashed", color: "#b42318"}};
    }
    var chart = window.echarts.init(canvas);
    chart.setOption({
      animation: false,
      grid: {left: 44, right: 40, top: 20, bottom: 36},
      tooltip: {trigger: "axis", valueFormatter: function (value) { return value === null ? "—" : value + "%"; }},
      xAxis: {type: "category", data: labels, axisLabel: {hideOverlap: true}},
      yAxis: {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}},
      series: [series]
    });
    figure.setAttribute("data-drawn", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawIn(root) {
    root.querySelectorAll(".kpi-chart").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawIn(document);
    document.querySelectorAll("details").forEach(function (details) {
      details.addEventListener("toggle", function () {
        if (details.open) {
          drawIn(details);
        }
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
