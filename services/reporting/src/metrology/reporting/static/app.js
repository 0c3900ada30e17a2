// The reporting dashboard: reads /plans and /plans/{id}/progress, draws progress, charts and breakdowns.
(function () {
  "use strict";
  const TEXT = {
    vi: {
      national: "Toàn quốc (các tỉnh trên hệ thống)", total: "Tổng", indicator: "Chỉ số",
      metrics: { "demand-coverage": "Tỷ lệ đáp ứng nhu cầu kiểm định", "socialised-providers": "Tổ chức xã hội hóa",
                 "person-times-trained": "Lượt người được đào tạo", "enterprise-times": "Lượt doanh nghiệp được hỗ trợ",
                 "accredited-labs": "Phòng thử nghiệm được đánh giá" },
      asOf: "Tính đến ngày", knownAt: "Theo dữ liệu ghi nhận đến", csv: "Tải CSV", xlsx: "Tải XLSX", method: "Dự báo", other: "English",
      yearlyPdf: "Báo cáo năm (PDF)", yearlyXlsx: "Báo cáo năm (XLSX)",
      threshold: "Chỉ tiêu", deadline: "Hạn", forecast: "Dự báo đến hạn", breakdowns: "Chi tiết",
      status: { "not-started": "Chưa bắt đầu", "on-track": "Đúng tiến độ", "at-risk": "Có nguy cơ", met: "Đã đạt", missed: "Không đạt" },
      series: "Thực tế", trend: "Xu hướng", demand: "Nhu cầu", met: "Đáp ứng", unique_enterprises: "Doanh nghiệp (không trùng)",
      unique_people: "Người (không trùng)", designated_share: "Thuộc lĩnh vực được chỉ định", noData: "Chưa có số liệu",
      notStarted: "Chưa đến thời gian tính (từ {from})",
      by: { channel: "Theo hình thức", sector: "Theo ngành", commune: "Theo xã/phường", instrument_type: "Theo loại PTĐ",
            provider: "Theo tổ chức", course: "Theo khóa học", field: "Theo lĩnh vực đào tạo", laboratory: "Phòng thử nghiệm",
            province: "Theo tỉnh cũ",
            inspection: "Phát hiện khi kiểm tra nhà nước" },
      rows: { "found-overdue": "PTĐ quá hạn kiểm định phát hiện khi kiểm tra",
              "found-overdue-not-met": "trong đó đến hạn trong kỳ mà chưa được kiểm định" },
    },
    en: {
      national: "National (the provinces on this platform)", total: "Total", indicator: "Indicator",
      metrics: { "demand-coverage": "Verification demand covered", "socialised-providers": "Socialised providers",
                 "person-times-trained": "Person-times trained", "enterprise-times": "Enterprise-times reached",
                 "accredited-labs": "Accredited laboratories assessed" },
      asOf: "As of", knownAt: "As known on", csv: "Download CSV", xlsx: "Download XLSX", method: "Forecast", other: "Tiếng Việt",
      yearlyPdf: "Yearly report (PDF)", yearlyXlsx: "Yearly report (XLSX)",
      threshold: "Target", deadline: "Deadline", forecast: "Forecast at deadline", breakdowns: "Breakdowns",
      status: { "not-started": "Not started", "on-track": "On track", "at-risk": "At risk", met: "Met", missed: "Missed" },
      series: "Actual", trend: "Trend", demand: "Demand", met: "Met", unique_enterprises: "Unique enterprises",
      unique_people: "Unique people", designated_share: "Within a local designation", noData: "No data yet",
      notStarted: "Counting starts on {from}",
      by: { channel: "By channel", sector: "By sector", commune: "By commune", instrument_type: "By instrument type",
            provider: "By provider", course: "By course", field: "By field of training", laboratory: "Laboratories",
            province: "By former province",
            inspection: "Found at state inspection" },
    },
  };
  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") === "en" ? "en" : "vi";
  const asOfInput = document.getElementById("as-of");
  asOfInput.value = params.get("as_of") || new Date().toISOString().slice(0, 10);
  // "as known on": facts recorded after the end of that day are left out (empty: everything recorded so far)
  const knownAtInput = document.getElementById("known-at");
  knownAtInput.value = params.get("known_at") || "";
  let plan = null;
  const CHART_HEIGHT = 160;
  let mounted = []; // { plot, observer } of the charts on the page, torn down on every render

  function fmt(metric, value) {
    if (metric === "demand-coverage") return (value * 100).toFixed(1) + " %";
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => (k === "text" ? (node.textContent = v) : node.setAttribute(k, v)));
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }
  function tenantQuery() { return params.get("tenant") ? "&tenant=" + encodeURIComponent(params.get("tenant")) : ""; }
  function knownQuery() { return knownAtInput.value ? "&known_at=" + encodeURIComponent(knownAtInput.value) : ""; }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(url + ": " + response.status + " " + (await response.text()));
    return response.json();
  }

  function applyText() {
    const t = TEXT[lang];
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((n) => (n.textContent = t[n.dataset.i18n]));
    document.getElementById("lang").textContent = t.other;
    if (plan) document.getElementById("plan-title").textContent = plan.title[lang];
  }

  // A chart is drawn once its card is on the page, at its container's width (never wider), and follows that
  // width with a ResizeObserver; the x range runs from the first month to the deadline.
  function chart(target) {
    const t = TEXT[lang];
    const xs = target.series.map((p) => Date.parse(p.date) / 1000);
    const actual = target.series.map((p) => p.value);
    const trend = actual.map(() => null);
    if (target.forecast && xs.length) {
      trend[trend.length - 1] = actual[actual.length - 1];
      xs.push(Date.parse(target.deadline) / 1000);
      actual.push(null);
      trend.push(target.forecast.value);
    }
    const host = el("div", { class: "chart" });
    if (!xs.length || typeof uPlot === "undefined") return host;
    const scale = target.metric === "demand-coverage" ? (v) => v.map((x) => (x * 100).toFixed(0) + "%") : undefined;
    host.plotWith = (width) => new uPlot({
      width: width, height: CHART_HEIGHT,
      legend: { show: true, live: false }, // a small static legend (series names only) that wraps in the card
      series: [{}, { label: t.series, stroke: "#0b57d0", width: 2 },
               { label: t.trend, stroke: "#b3261e", dash: [6, 4], spanGaps: true }],
      axes: [{}, { values: scale ? (u, v) => scale(v) : undefined, size: 48 }],
    }, [xs, actual, trend], host);
    return host;
  }

  function chartWidth(host) { return Math.max(120, Math.floor(host.getBoundingClientRect().width)); }

  function mountCharts(root) {
    mounted.forEach(({ plot, observer }) => { observer && observer.disconnect(); plot.destroy(); });
    mounted = [];
    root.querySelectorAll(".chart").forEach((host) => {
      if (!host.plotWith) return;
      const plot = host.plotWith(chartWidth(host));
      let observer = null;
      if (typeof ResizeObserver !== "undefined") {
        observer = new ResizeObserver(() => {
          const width = chartWidth(host);
          if (width !== plot.width) plot.setSize({ width: width, height: CHART_HEIGHT });
        });
        observer.observe(host);
      }
      mounted.push({ plot, observer });
    });
  }

  function breakdownTables(target) {
    const t = TEXT[lang];
    const wrap = el("details", {}, [el("summary", { text: t.breakdowns })]);
    Object.entries(target.breakdowns).forEach(([name, rows]) => {
      if (!rows.length) return;
      const table = el("table", { "data-breakdown": name }, [
        el("caption", { text: t.by[name] || name }),
      ]);
      rows.forEach((row) => {
        const shown = row.demand !== undefined ? row.met + " / " + row.demand : String(row.value);
        table.appendChild(el("tr", {}, [el("td", { text: (t.rows && t.rows[row.key]) || row.label || row.key || "—" }), el("td", { class: "n", text: shown })]));
      });
      wrap.appendChild(table);
    });
    return wrap;
  }

  function card(target) {
    const t = TEXT[lang];
    const details = Object.entries(target.details)
      .filter(([k, v]) => typeof v === "number" && t[k])
      .map(([k, v]) => t[k] + ": " + (k === "designated_share" ? (v * 100).toFixed(1) + " %" : v));
    const f = target.forecast;
    const node = el("section", { class: "card " + target.status, "data-target": target.id }, [
      el("h2", { text: target.title[lang] }),
      el("div", { class: "figures" }, [
        el("span", { class: "value", text: fmt(target.metric, target.value) }),
        el("span", { class: "status " + target.status, text: t.status[target.status] }),
      ]),
      el("div", { class: "bar", role: "progressbar", "aria-valuenow": String(Math.round(target.progress * 100)),
                  "aria-valuemin": "0", "aria-valuemax": "100" },
         [el("div", { style: "width:" + Math.min(100, target.progress * 100).toFixed(1) + "%" })]),
      el("div", { class: "threshold", text: t.threshold + ": " + target.comparison + " " + fmt(target.metric, target.threshold) +
                  " · " + t.deadline + ": " + target.deadline }),
      el("div", { class: "forecast", text: target.status === "not-started" ? t.notStarted.replace("{from}", target.window.from)
                  : f ? t.forecast + ": " + fmt(target.metric, f.value) + " [" +
                  fmt(target.metric, f.low) + " – " + fmt(target.metric, f.high) + "]" : t.noData }),
      el("div", { class: "details", text: details.join(" · ") }),
    ]);
    node.appendChild(chart(target));
    node.appendChild(breakdownTables(target));
    return node;
  }

  // the national view: every KPI across the provinces the deployment serves, in total and by province now
  function nationalTable(view) {
    const t = TEXT[lang];
    const provinces = (view.kpis[0] || { by_province: [] }).by_province.map((p) => p.name);
    const head = el("tr", {}, [t.indicator, t.total, ...provinces].map((h) => el("th", { text: h })));
    const rows = view.kpis.map((k) => el("tr", { "data-metric": k.metric }, [
      el("td", { text: (t.metrics || {})[k.metric] || k.metric }),
      el("td", { class: "total", text: fmt(k.metric, k.value) }),
      ...k.by_province.map((p) => el("td", { text: fmt(k.metric, p.value) })),
    ]));
    return el("table", { class: "national" }, [el("thead", {}, [head]), el("tbody", {}, rows)]);
  }

  async function render() {
    const error = document.getElementById("error");
    try {
      if (!plan) {
        const plans = await getJson("/plans?x=1" + tenantQuery());
        plan = plans[0];
      }
      const asOf = asOfInput.value;
      const query = "?as_of=" + asOf + knownQuery() + tenantQuery();
      const progress = await getJson("/plans/" + plan.id + "/progress" + query);
      const main = document.getElementById("targets");
      main.replaceChildren(...progress.targets.map(card));
      mountCharts(main);
      const method = progress.targets.find((x) => x.forecast);
      // the method note in the page's language (the API gives it in each)
      document.getElementById("method").textContent = method
        ? (method.forecast.method_text || {})[lang] || method.forecast.method : "";
      document.getElementById("csv").href = "/plans/" + plan.id + "/report.csv" + query;
      document.getElementById("xlsx").href = "/plans/" + plan.id + "/report.xlsx" + query;
      // the yearly report to the ministry: targets and tasks for the year of the as-of date, in the page's language
      const yearly = "/plans/" + plan.id + "/reports/" + asOf.slice(0, 4);
      document.getElementById("yearly-pdf").href = yearly + ".pdf?lang=" + lang + knownQuery() + tenantQuery();
      document.getElementById("yearly-xlsx").href = yearly + ".xlsx?lang=" + lang + knownQuery() + tenantQuery();
      const view = await getJson("/national" + query);
      document.getElementById("national-table").replaceChildren(nationalTable(view));
      applyText();
      error.hidden = true;
      document.body.dataset.ready = "true";
    } catch (e) {
      error.textContent = String(e);
      error.hidden = false;
    }
  }

  document.getElementById("lang").addEventListener("click", () => { lang = lang === "vi" ? "en" : "vi"; render(); });
  asOfInput.addEventListener("change", render);
  knownAtInput.addEventListener("change", render);
  applyText();
  render();
})();
