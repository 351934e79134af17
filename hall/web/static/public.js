"use strict";
// 好差评 公示 (no login): the month's ratings, 好评率, 差评 count, 整改率 on time and 回访率,
// for the hall and each department (GB/T 39734 Annex B). Upheld appeals are left out.
(() => {
  const { el, bi, biText } = GH;
  const $ = (id) => document.getElementById(id);
  const COLUMNS = ["ratings", "good_rate_pct", "bad", "rectified_on_time_pct", "followed_up_pct"];

  function pct(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
  function cell(key, f) {
    return key.endsWith("_pct") ? pct(f[key]) : String(f[key]);
  }
  async function load() {
    const month = $("public-month").value;
    const resp = await fetch("/p/evaluations.json?month=" + encodeURIComponent(month));
    const data = await resp.json();
    if (!resp.ok) { GH.toast(data.zh || data.message, true); return; }
    const f = data.figures.total;
    $("public-kpis").replaceChildren(...COLUMNS.map((k) => el("div", { class: "kpi", "data-kpi": k },
      el("div", { class: "v" }, cell(k, f)), el("div", { class: "k" }, bi("public_" + k, null, true)))));
    const head = el("tr", {}, el("th", {}, bi("public_department", null, true)),
      ...COLUMNS.map((k) => el("th", {}, bi("public_" + k, null, true))));
    const row = (name, figures, code) => el("tr", { "data-service": code },
      el("td", {}, name), ...COLUMNS.map((k) => el("td", { class: k === "bad" && figures.bad ? "bad" : null }, cell(k, figures))));
    const rows = Object.entries(data.figures.by_service).map(([code, figures]) => {
      const s = data.services[code];
      return row(s ? biText(s.name, s.name_en) : code, figures, code);
    });
    $("public-table").replaceChildren(head, row(bi("public_hall", null, true), f, "total"), ...rows);
    history.replaceState(null, "", "/p/evaluations?month=" + month);
    document.body.dataset.ready = "1";
  }
  const now = new Intl.DateTimeFormat("en-CA", { timeZone: document.body.dataset.tz, year: "numeric", month: "2-digit" })
    .format(new Date()).slice(0, 7);
  $("public-month").value = GH.param("month") || now;
  $("public-month").addEventListener("change", load);
  load().catch((err) => GH.toast(GH.errorLabel(err), true));
})();
