// Dashboard charts (ECharts, SVG renderer, Chinese locale). Every figure is also in a table; the
// charts are an addition. Chart data comes from json_script elements named by data-source; the
// trend fragment arrives by htmx, so charts are also set up after each swap.
(function () {
  "use strict";

  const charts = new Set();
  const RED = "#c62828";
  const GREY = "#9e9e9e";
  const BLUE = "#1565c0";
  const percent = (v) => (v === null || v === undefined ? "—" : v + "%");

  function sections(data) {
    const s = data.sections;
    if (!s || !s.names.length) return null;
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: percent },
      legend: { top: 0 },
      grid: { left: 8, right: 44, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: s.names, inverse: true, axisLabel: { width: 96, overflow: "truncate" } },
      series: [
        { name: "进度完成率", type: "bar", data: s.rate, itemStyle: { color: RED },
          label: { show: true, position: "right", formatter: (p) => percent(p.value) } },
        { name: "总体完成率", type: "bar", data: s.overall, itemStyle: { color: GREY } },
      ],
    };
  }

  function stars(data, el) {
    const r = (data.stars || [])[Number(el.dataset.index || 0)];
    if (!r) return null;
    const counts = r.counts.map((n, i) => {
      const over = r.seats[i] !== null && n > r.seats[i];
      return { value: n, itemStyle: { color: over ? RED : BLUE } };
    });
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, data: ["数量", "名额"] },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: r.labels },
      // Headroom above the tallest bar for its label.
      yAxis: { type: "value", minInterval: 1, max: (v) => Math.max(1, Math.ceil(v.max * 1.2)) },
      series: [
        { name: "数量", type: "bar", data: counts, barMaxWidth: 48, itemStyle: { color: BLUE },
          label: { show: true, position: "top" } },
        { name: "名额", type: "scatter", data: r.seats.map((n) => (n === null ? "-" : n)),
          symbol: "rect", symbolSize: [44, 4], itemStyle: { color: "#ef6c00" }, z: 5 },
      ],
    };
  }

  function trend(data) {
    const series = [
      { name: "本年应完成", type: "line", data: data.due, symbol: "none", lineStyle: { color: GREY }, itemStyle: { color: GREY } },
      { name: "本年已完成", type: "line", data: data.done, lineStyle: { color: RED, width: 3 }, itemStyle: { color: RED } },
    ];
    if (data.last_done && data.last_done.length) {
      series.push({ name: data.last_year + "年已完成", type: "line", data: data.last_done,
        lineStyle: { color: BLUE, type: "dashed" }, itemStyle: { color: BLUE } });
    }
    return {
      tooltip: { trigger: "axis", valueFormatter: percent },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.months, boundaryGap: false },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: series,
    };
  }

  const BUILDERS = { sections: sections, stars: stars, trend: trend };

  function setUp(root) {
    if (!window.echarts || !root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-dashboard-chart]").forEach(function (el) {
      if (el.dataset.ready) return;
      const source = document.getElementById(el.dataset.source);
      const build = BUILDERS[el.dataset.dashboardChart];
      if (!source || !build) return;
      const option = build(JSON.parse(source.textContent), el);
      if (!option) return;
      option.animation = false;
      const chart = window.echarts.init(el, null, { locale: "ZH", renderer: "svg" });
      chart.setOption(option);
      el.dataset.ready = "1";
      charts.add(chart);
    });
  }

  function resizeAll() {
    charts.forEach(function (chart) {
      if (chart.isDisposed()) charts.delete(chart);
      else chart.resize();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { setUp(event.detail.target || document); });
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-dashboard-print]")) window.print();
  });
})();
