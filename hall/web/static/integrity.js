"use strict";
// The dashboard's 好差评 panel: overdue cases in red, 回访 of the 差评 against the 100 %
// target, and per staff member the month's rating-integrity flags (instant ratings after
// every finish, zero variance, ratings on implausibly short service, the phone disagreeing).
(() => {
  const { el, bi } = GH;
  const $ = (id) => document.getElementById(id);

  function kpi(value, key, bad) {
    return el("div", { class: "kpi" + (bad ? " bad" : ""), "data-kpi": key },
      el("div", { class: "v" }, value), el("div", { class: "k" }, bi(key, null, true)));
  }
  async function load() {
    const month = GH.param("month");
    const r = await GH.api("GET", "/web/api/integrity" + (month ? "?month=" + month : ""));
    const follow = r.bad_with_contact ? Math.round(100 * r.followed_up / r.bad_with_contact) : null;
    const flagged = r.staff.filter((s) => s.findings.length);
    $("integrity-kpis").replaceChildren(
      kpi(String(r.overdue_cases), "integrity_overdue", r.overdue_cases > 0),
      kpi(String(r.open_cases), "integrity_open"),
      kpi(follow === null ? "—" : follow + "% / 100%", "integrity_follow_up", follow !== null && follow < 100),
      kpi(String(flagged.length), "integrity_flagged", flagged.length > 0));
    const head = el("tr", {}, ...["integrity_staff", "integrity_ratings", "integrity_mean", "integrity_flags"]
      .map((k) => el("th", {}, bi(k, null, true))));
    const rows = r.staff.map((s) => el("tr", { "data-staff": s.staff, class: s.findings.length ? "flagged" : null },
      el("td", {}, s.staff.startsWith("counter-") ? GH.zh("integrity_counter", { id: s.staff.slice(8) }) : s.name),
      el("td", {}, String(s.ratings)),
      el("td", {}, s.mean === null ? "—" : s.mean.toFixed(2)),
      el("td", {}, ...(s.findings.length ? s.findings.map((f) => el("span", { class: "flag", "data-pattern": f.pattern },
        bi("integrity_" + f.pattern, { count: f.count, of: f.of, detail: f.detail }, true)))
        : [bi("integrity_ok", null, true)]))));
    $("integrity-table").replaceChildren(head, ...rows);
    $("integrity-panel").dataset.ready = "1";
  }
  // the page's own script logs in first (GH.me sets the CSRF token); reads need none
  load().catch((err) => GH.toast(GH.errorLabel(err), true));
})();
