"use strict";
// 管理驾驶舱 (issue 22): today's waiting-time promise, the advice to open counters, the
// staffing plan of the next working days (forecast → Erlang C → checked by simulation),
// "what if", the printed range's coverage, staff performance and the monthly 通报.
(() => {
  const { el, bi, biText, api, toast, zh, errorLabel } = GH;
  const $ = (id) => document.getElementById(id);
  let plan = null, today = null, day = 0;
  const pct = (v) => (v === null || v === undefined ? "—" : (100 * v).toFixed(1) + "%");
  const weekday = (iso) => zh("ck_weekday_" + new Date(iso + "T12:00:00").getDay());

  function names() { return Object.fromEntries((today ? today.counters : []).map((c) => [c.id, c.name])); }
  function svcName(code) { return today && today.services[code] ? today.services[code].name : code; }

  function renderToday() {
    const a = today.attainment;
    const v = $("ck-today-share");
    v.textContent = pct(a.share);
    const rows = [el("tr", {}, el("th", {}, bi("ck_service")), el("th", {}, bi("ck_target")),
      el("th", { class: "num" }, bi("ck_within")), el("th", { class: "num" }, bi("ck_missed")),
      el("th", { class: "num" }, bi("ck_pending")), el("th", { class: "num" }, bi("ck_share")))];
    for (const [code, s] of Object.entries(a.by_service)) {
      if (!s.within && !s.missed && !s.pending) continue;
      const good = s.share !== null && s.share >= s.level;
      rows.push(el("tr", { "data-service": code }, el("td", {}, biText(s.name, s.name_en)),
        el("td", {}, zh("ck_target_text", { min: s.target_min, level: Math.round(100 * s.level) })),
        el("td", { class: "num" }, s.within), el("td", { class: "num" }, s.missed),
        el("td", { class: "num" }, s.pending),
        el("td", { class: "num " + (s.share === null ? "" : good ? "ok" : "late") }, pct(s.share))));
    }
    if (rows.length === 1) rows.push(el("tr", {}, el("td", { colspan: 6 }, bi("ck_no_tickets"))));
    $("ck-promise").replaceChildren(...rows);
    const adv = today.advice;
    $("ck-advice").replaceChildren(...(adv.length ? adv.map((x) =>
      el("div", { class: "advice-item", "data-service": x.service }, biText(x.zh, x.en)))
      : [el("div", { class: "advice-none" }, bi("ck_no_advice"))]));
  }

  function renderDays() {
    $("ck-days").replaceChildren(...plan.days.map((d, i) => el("button", {
      type: "button", class: i === day ? "active" : null, "data-day": d.day,
      onclick: () => { day = i; renderDays(); renderPlan(); },
    }, el("span", { class: "zh" }, d.day.slice(5) + " " + weekday(d.day)))));
    $("wi-day").replaceChildren(...plan.days.map((d) => el("option", { value: d.day }, d.day + " " + weekday(d.day))));
  }

  function renderPlan() {
    const d = plan.days[day];
    if (!d) {
      $("ck-plan").replaceChildren(el("tr", {}, el("td", {}, bi("ck_no_history"))));
      return;
    }
    $("ck-day-summary").replaceChildren(bi("ck_plan_summary", {
      arrivals: d.arrivals, plan: d.counter_hours, erlang: d.erlang_counter_hours,
      peak: d.peak_rule_counter_hours, share: pct(d.simulated_share) }, true));
    const n = names();
    const rows = [el("tr", {}, el("th", {}, bi("ck_slot")), el("th", { class: "num" }, bi("ck_arrivals")),
      el("th", { class: "num" }, bi("ck_need")), el("th", {}, bi("ck_open")), el("th", {}, bi("ck_short")))];
    for (const s of d.slots) {
      const arrivals = Object.values(s.arrivals).reduce((x, y) => x + y, 0);
      const chips = Object.entries(s.open).map(([c, svc]) =>
        el("span", { class: "chip", title: svcName(svc) }, (n[c] || c) + "→" + svc));
      const short = Object.entries(s.short).map(([svc, k]) => svcName(svc) + " " + k).join("，");
      rows.push(el("tr", { "data-slot": s.slot }, el("td", {}, s.label),
        el("td", { class: "num" }, arrivals.toFixed(0)), el("td", { class: "num" }, s.counters),
        el("td", {}, chips), el("td", { class: short ? "short" : "" }, short || "—")));
    }
    $("ck-plan").replaceChildren(...rows);
  }

  function renderPerf(res) {
    const cols = ["counter", "name", "staff", "served", "service_avg_min", "wait_avg_min",
      "signed_in_min", "idle_waiting_min", "pauses", "paused_min", "recalls", "no_show",
      "evaluations", "satisfied_pct", "bad_reviews", "cases_overdue"];
    const head = el("tr", {}, ...cols.map((c) => el("th", {}, bi("ck_col_" + c))));
    const rows = res.rows.map((r) => el("tr", { "data-counter": r.counter },
      ...cols.map((c) => el("td", { class: typeof r[c] === "number" ? "num" : null },
        r[c] === null || r[c] === "" ? "—" : String(r[c])))));
    $("ck-perf").replaceChildren(head, ...rows);
    // per person: the work each staff member did from the counter page, wherever
    const people = ["person", "staff_no", "counters", ...cols.slice(3)];
    const shown = (r, c) => Array.isArray(r[c]) ? r[c].join("、")
      : r[c] === null || r[c] === "" ? "—" : String(r[c]);
    $("ck-perf-staff").replaceChildren(
      el("tr", {}, ...people.map((c) => el("th", {}, bi("ck_col_" + c)))),
      ...(res.staff || []).map((r) => el("tr", { "data-account": r.username || r.account },
        ...people.map((c) => el("td", { class: typeof r[c] === "number" ? "num" : null },
          shown(r, c))))));
    $("ck-perf-staff-none").classList.toggle("hidden", (res.staff || []).length > 0);
  }

  function perfLinks(month) {
    const q = "?month=" + encodeURIComponent(month);
    $("perf-csv").href = "/web/api/cockpit/performance.csv" + q;
    $("perf-xlsx").href = "/web/api/cockpit/performance.xlsx" + q;
    $("bulletin-pdf").href = "/web/api/cockpit/bulletin.pdf" + q;
    $("bulletin-xlsx").href = "/web/api/cockpit/bulletin.xlsx" + q;
    $("bulletin-csv").href = "/web/api/cockpit/bulletin.csv" + q;
  }

  async function loadPerf(day) {
    const month = $("perf-month").value;
    perfLinks(month);
    const q = day ? "?day=" + encodeURIComponent(day) : "?month=" + encodeURIComponent(month);
    try { renderPerf(await api("GET", "/web/api/cockpit/performance" + q)); }
    catch (e) { toast(errorLabel(e), true); }
  }

  async function loadToday() {
    try { today = await api("GET", "/web/api/cockpit/today"); renderToday(); }
    catch (e) { toast(errorLabel(e), true); }
  }

  async function init() {
    const me = await GH.me();
    $("who").textContent = me.display_name || me.username;
    GH.startClock($("clock"));
    $("logout").addEventListener("click", GH.logout);
    await loadToday();
    $("wi-counter").replaceChildren(...today.counters.map((c) => el("option", { value: c.id }, c.name)));
    setInterval(loadToday, 30000);
    const now = new Date();
    const prev = new Date(now.getFullYear(), now.getMonth() - 1, 15);
    $("perf-month").value = prev.getFullYear() + "-" + String(prev.getMonth() + 1).padStart(2, "0");
    $("ck-perf-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadPerf(); });
    $("perf-day-show").addEventListener("click", () => { if ($("perf-day").value) loadPerf($("perf-day").value); });
    loadPerf();
    api("GET", "/web/api/cockpit/coverage").then((c) => {
      $("ck-coverage").textContent = pct(c.share);
      $("ck-coverage-note").replaceChildren(bi("ck_coverage_note",
        { days: c.days, tickets: c.tickets, level: Math.round(100 * c.level) + "%",
          queued: c.queued_tickets, queued_share: pct(c.queued_share) }, true));
    }).catch((e) => toast(errorLabel(e), true));
    $("ck-plan").replaceChildren(el("tr", {}, el("td", {}, bi("ck_computing"))));
    try {
      plan = await api("GET", "/web/api/cockpit/plan");
      const first = plan.days[0];
      $("ck-plan-hours").textContent = first ? String(first.counter_hours) : "—";
      if (first) {
        $("ck-plan-note").replaceChildren(bi("ck_plan_hours_note",
          { day: first.day, peak: first.peak_rule_counter_hours }, true));
      }
      renderDays();
      renderPlan();
      const errs = Object.entries(plan.forecast_error || {});
      if (errs.length) {
        $("ck-forecast-error").replaceChildren(bi("ck_forecast_error", {
          errors: errs.map(([c, e]) => svcName(c) + " " + (100 * e).toFixed(0) + "%").join("，") }, true));
      }
    } catch (e) { toast(errorLabel(e), true); }
    $("ck-what-if").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams({ day: $("wi-day").value, counter: $("wi-counter").value,
        at: $("wi-at").value });
      $("wi-result").replaceChildren(bi("ck_computing", null, true));
      try {
        const r = await api("GET", "/web/api/cockpit/what-if?" + q.toString());
        const after = el("span", { class: "after" + (r.after < r.base ? " bad" : "") }, pct(r.after));
        $("wi-result").replaceChildren(bi("ck_wi_result", { counter: names()[r.counter] || r.counter,
          at: r.at, day: r.day, base: pct(r.base) }, true), " → ", after);
      } catch (e) { $("wi-result").replaceChildren(errorLabel(e)); }
    });
  }
  init();
})();
