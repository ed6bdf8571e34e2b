// Dashboard charts (Apache ECharts, vendored under static/vendor/echarts/). The figures come
// from the page itself (json_script "dashboard-data"); each bar, slice and point opens the
// filtered list behind it, exactly as the links in the tables under each chart do.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") return;
  var charts = JSON.parse(source.textContent);
  var TIER_COLOURS = { red: "#c0392b", orange: "#e67e22", yellow: "#f1c40f" };
  var PALETTE = ["#b42318", "#0b5cad", "#1f7a3f", "#a15c00", "#6b3fa0", "#0e7c86", "#7a5230", "#5f6b7a"];
  var narrow = window.matchMedia("(max-width: 719px)").matches;
  var instances = [];

  function go(url) {
    if (url) window.location.assign(url);
  }

  function categoryAxis(labels, rotate) {
    return {
      type: "category",
      data: labels,
      axisLabel: { interval: 0, rotate: rotate ? 40 : 0, fontSize: narrow ? 10 : 12 },
    };
  }

  function barOption(chart) {
    // Long label lists read better as horizontal bars on a phone.
    var horizontal = narrow && chart.labels.length > 5;
    var value = { type: "value", minInterval: 1 };
    var labels = categoryAxis(chart.labels, !horizontal && chart.labels.length > 6);
    if (horizontal) labels.inverse = true;
    return {
      color: PALETTE,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: horizontal ? value : labels,
      yAxis: horizontal ? labels : value,
      series: [{ type: "bar", data: chart.values, barMaxWidth: 36, cursor: "pointer" }],
    };
  }

  function pieOption(chart) {
    var data = chart.labels.map(function (label, i) {
      return { name: label, value: chart.values[i] };
    });
    return {
      color: PALETTE,
      tooltip: { trigger: "item", formatter: "{b}：{c} 户（{d}%）" },
      legend: { bottom: 0, type: "scroll" },
      series: [{ type: "pie", radius: narrow ? ["30%", "60%"] : ["35%", "65%"], center: ["50%", "45%"], data: data, cursor: "pointer", label: { formatter: "{b} {c}" } }],
    };
  }

  function multiOption(chart, stacked) {
    return {
      color: PALETTE,
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      xAxis: categoryAxis(chart.labels, chart.labels.length > 6),
      yAxis: { type: "value", minInterval: 1 },
      series: chart.series.map(function (s) {
        var series = { name: s.name, data: s.values, cursor: "pointer" };
        if (stacked) {
          series.type = "bar";
          series.stack = "total";
          series.barMaxWidth = 36;
          if (TIER_COLOURS[s.tier]) series.itemStyle = { color: TIER_COLOURS[s.tier] };
        } else {
          series.type = "line";
          series.smooth = false;
          series.symbolSize = 8;
        }
        return series;
      }),
    };
  }

  charts.forEach(function (chart) {
    var box = document.querySelector('[data-chart="' + chart.id + '"]');
    if (!box) return;
    var option;
    if (chart.kind === "pie") option = pieOption(chart);
    else if (chart.kind === "trend") option = multiOption(chart, false);
    else if (chart.kind === "stacked") option = multiOption(chart, true);
    else option = barOption(chart);
    var instance = window.echarts.init(box, null, { renderer: "canvas" });
    instance.setOption(option);
    instance.on("click", function (params) {
      if (chart.series) go(chart.series[params.seriesIndex].urls[params.dataIndex]);
      else go(chart.urls[params.dataIndex]);
    });
    box.dataset.rendered = "true";
    instances.push(instance);
  });

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () {
      instances.forEach(function (instance) {
        instance.resize();
      });
    }, 150);
  });
})();
