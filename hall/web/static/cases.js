"use strict";
// 工单中心: the cases (差评, 办不成事, complaints, suggestions) a session may see, soonest due
// first, overdue in red; a case's facts, its steps (GB/T 36113; for a 差评 核实 → 整改 → 回访
// → 申诉复核), the six-step guidance, one extension, 回访, 转办 and the appeal of a rating.
// A supervisor handles the cases of its departments, an admin all; counter staff read the
// cases of their counters and may appeal a rating.
(() => {
  const { el, bi, biText, api, toast } = GH;
  const $ = (id) => document.getElementById(id);
  const FLOW = {
    bad_review: ["verify", "rectify", "follow_up", "appeal", "close"],
    cannot_handle: ["accept", "verify", "rectify", "feedback", "close"],
    complaint: ["accept", "verify", "rectify", "feedback", "close"],
    suggestion: ["accept", "feedback", "close"],
  };
  const GUIDANCE = ["calm", "cause", "expectations", "solution", "agreement", "follow_through"];
  let me = null, current = null;

  function handles(c) {
    return me.role === "admin" || (me.role === "supervisor" && me.departments.includes(c.service));
  }
  function serviceName(code) {
    const s = (me.services || {})[code];
    return s ? code + " " + s : (code || "—");
  }
  function appealState(c) {
    let state = null;
    for (const s of c.steps) {
      if (s.step !== "appeal") continue;
      if ("upheld" in s.fields) state = s.fields.upheld ? "upheld" : "rejected";
      else if (!state) state = "pending";
    }
    return state;
  }
  function deadline(c) { return c.extended_to || c.due_on; }

  // -- the list ---------------------------------------------------------------------------
  function query() {
    const q = new URLSearchParams();
    for (const [id, key] of [["f-kind", "kind"], ["f-status", "status"], ["f-overdue", "overdue"]]) {
      if ($(id).value) q.set(key, $(id).value);
    }
    return q.toString();
  }
  function kpi(value, key) {
    return el("div", { class: "kpi" }, el("div", { class: "v" }, value), el("div", { class: "k" }, bi(key, null, true)));
  }
  async function showList() {
    $("case-detail-view").classList.add("hidden");
    $("case-list-view").classList.remove("hidden");
    const list = await api("GET", "/web/api/cases" + (query() ? "?" + query() : ""));
    const open = list.filter((c) => c.status === "open");
    const bad = list.filter((c) => c.kind === "bad_review" && c.contact_masked);
    const followed = bad.filter((c) => c.steps.some((s) => s.step === "follow_up"));
    $("case-kpis").replaceChildren(
      kpi(String(open.length), "cases_kpi_open"),
      kpi(String(list.filter((c) => c.overdue).length), "cases_kpi_overdue"),
      kpi(bad.length ? Math.round(100 * followed.length / bad.length) + "%" : "—", "cases_kpi_follow_up"));
    const head = el("tr", {}, ...["cases_col_id", "cases_kind", "cases_status", "cases_col_service",
      "cases_col_description", "cases_col_opened", "cases_col_due", "cases_col_last_step"]
      .map((k) => el("th", {}, bi(k, null, true))));
    const rows = list.map((c) => {
      const last = c.steps[c.steps.length - 1];
      return el("tr", { class: c.overdue ? "overdue" : null, "data-case": c.id, onclick: () => open_(c.id) },
        el("td", {}, "#" + c.id),
        el("td", {}, bi("case_kind_" + c.kind, null, true)),
        el("td", {}, bi("case_status_" + c.status, null, true)),
        el("td", {}, serviceName(c.service)),
        el("td", {}, c.description.length > 40 ? c.description.slice(0, 40) + "…" : c.description),
        el("td", {}, c.opened_on),
        el("td", {}, deadline(c), " ",
          c.overdue ? el("span", { class: "badge overdue" }, bi("cases_overdue_badge", null, true)) : null,
          c.extended_to ? el("span", { class: "badge extended" }, bi("cases_extended_badge", null, true)) : null),
        el("td", {}, last ? bi("step_" + last.step, null, true) : "—"));
    });
    $("case-table").replaceChildren(head, ...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: "8" }, bi("cases_none", null, true)))]));
  }

  // -- one case ---------------------------------------------------------------------------
  function fact(key, value, cls) {
    return el("div", {}, el("span", { class: "label" }, bi(key, null, true)), el("span", { class: cls || null }, value));
  }
  function stepText(s) {
    const f = s.fields || {};
    const extra = [];
    if ("satisfied" in f) extra.push(GH.zh(f.satisfied ? "follow_satisfied" : "follow_dissatisfied"));
    if (f.category) extra.push(GH.zh("referral_" + f.category) + (f.referred_to ? " → " + f.referred_to : ""));
    if ("upheld" in f) extra.push(GH.zh(f.upheld ? "appeal_upheld" : "appeal_rejected"));
    else if (f.requested) extra.push(GH.zh("appeal_pending"));
    for (const g of GUIDANCE) if (f[g]) extra.push(GH.zh("guidance_" + g) + "：" + f[g]);
    return [s.note, ...extra].filter(Boolean).join("；");
  }
  async function open_(id, push = true) {
    if (push) history.pushState(null, "", "/web/cases?id=" + id);
    current = await api("GET", "/web/api/cases/" + id);
    render();
  }
  function render() {
    const c = current;
    $("case-list-view").classList.add("hidden");
    $("case-detail-view").classList.remove("hidden");
    $("case-heading").replaceChildren(bi("case_kind_" + c.kind, null, true), " #" + c.id, " · ",
      bi("case_status_" + c.status, null, true));
    $("case-facts").replaceChildren(...[
      fact("cases_col_service", serviceName(c.service)),
      c.counter ? fact("cases_fact_counter", c.counter) : null,
      c.contact_masked ? fact("cases_fact_contact", c.contact_masked) : null,
      fact("cases_fact_description", c.description),
      fact("cases_fact_opened", c.opened_on),
      fact("cases_fact_due", c.due_on + (c.overdue && !c.extended_to ? " · " + GH.zh("cases_overdue_badge") : ""),
        c.overdue && !c.extended_to ? "overdue" : null),
      c.extended_to ? fact("cases_fact_extended", c.extended_to + "（" + c.extension_reason + "）" +
        (c.overdue ? " · " + GH.zh("cases_overdue_badge") : ""), c.overdue ? "overdue" : null) : null,
      c.closed_at ? fact("cases_fact_closed", c.closed_at.slice(0, 16).replace("T", " ")) : null]
      .filter(Boolean));
    const done = new Set(c.steps.map((s) => s.step));
    $("case-flow").replaceChildren(...FLOW[c.kind].map((s) =>
      el("li", { class: done.has(s) ? "done" : null, "data-flow": s }, bi("step_" + s, null, true))));
    $("case-steps").replaceChildren(...c.steps.map((s) => el("tr", { "data-step": s.step },
      el("td", {}, s.at.slice(0, 16).replace("T", " ")), el("td", {}, bi("step_" + s.step, null, true)),
      el("td", {}, s.by), el("td", {}, stepText(s)))));
    // the guidance as last saved
    const guide = [...c.steps].reverse().find((s) => s.step === "guide");
    for (const t of document.querySelectorAll("[data-guidance]")) {
      t.value = guide ? guide.fields[t.dataset.guidance] || "" : "";
    }
    const kinds = FLOW[c.kind].filter((s) => s !== "appeal").concat(["refer"]);
    $("step-kind").replaceChildren(...kinds.map((s) => el("option", { value: s }, GH.zh("step_" + s))));
    const next = kinds.find((s) => !done.has(s));
    if (next) $("step-kind").value = next;
    stepFields();
    $("extend-panel").classList.toggle("hidden", !!c.extended_to);
    const appeal = appealState(c);
    $("appeal-panel").classList.toggle("hidden", c.kind !== "bad_review");
    $("appeal-state").replaceChildren(bi(appeal ? "appeal_" + appeal : "cases_no_appeal", null, true));
    $("appeal-form").classList.toggle("hidden", !!appeal || c.status === "referred");
    $("decision-form").classList.toggle("hidden", appeal !== "pending" || !handles(c));
    for (const p of document.querySelectorAll(".handler-only")) {
      if (p.id !== "decision-form") p.classList.toggle("hidden", !handles(c) || (p.id === "extend-panel" && !!c.extended_to));
    }
    for (const p of document.querySelectorAll(".open-only")) {
      if (c.status !== "open") p.classList.add("hidden");
    }
    if (c.status !== "open") $("guidance-panel").classList.add("hidden");
  }
  function stepFields() {
    const kind = $("step-kind").value;
    for (const l of document.querySelectorAll(".for-follow_up")) l.classList.toggle("hidden", kind !== "follow_up");
    for (const l of document.querySelectorAll(".for-refer")) l.classList.toggle("hidden", kind !== "refer");
  }
  async function send(path, body) {
    try {
      current = await api("POST", "/web/api/cases/" + current.id + path, body);
      render();
      toast(bi("cases_saved"));
    } catch (err) { toast(GH.errorLabel(err), true); }
  }

  $("step-kind").addEventListener("change", stepFields);
  $("step-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const step = $("step-kind").value;
    const body = { step, note: $("step-note").value.trim() };
    if (step === "follow_up") body.satisfied = $("step-satisfied").value === "true";
    if (step === "refer") { body.category = $("step-category").value; body.referred_to = $("step-to").value.trim() || null; }
    $("step-note").value = "";
    send("/steps", body);
  });
  $("guidance-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const guidance = {};
    for (const t of document.querySelectorAll("[data-guidance]")) if (t.value.trim()) guidance[t.dataset.guidance] = t.value.trim();
    send("/steps", { step: "guide", guidance });
  });
  $("extend-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send("/steps", { step: "extend", note: $("extend-reason").value.trim(), extend_to: $("extend-to").value });
  });
  $("appeal-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send("/appeal", { note: $("appeal-note").value.trim() });
  });
  for (const [id, upheld] of [["appeal-uphold", true], ["appeal-reject", false]]) {
    $(id).addEventListener("click", () => send("/appeal/decision", { upheld, note: $("decision-note").value.trim() }));
  }
  $("back-to-list").addEventListener("click", () => { history.pushState(null, "", "/web/cases"); showList(); });
  window.addEventListener("popstate", route);
  for (const id of ["f-kind", "f-status", "f-overdue"]) $(id).addEventListener("change", showList);
  function ledgerLinks() {
    const m = $("ledger-month").value;
    $("ledger-csv").href = "/web/api/cases/ledger.csv?month=" + m;
    $("ledger-xlsx").href = "/web/api/cases/ledger.xlsx?month=" + m;
  }
  $("ledger-month").addEventListener("change", ledgerLinks);
  $("logout").addEventListener("click", GH.logout);

  function route() {
    const id = GH.param("id");
    return (id ? open_(Number(id), false) : showList())
      .then(() => { document.body.dataset.ready = "1"; })
      .catch((err) => toast(GH.errorLabel(err), true));
  }

  GH.startClock($("clock"));
  GH.me().then((m) => {
    me = m;
    $("who").textContent = m.display_name;
    $("to-dashboard").classList.toggle("hidden", m.role !== "admin");
    const canLedger = m.role === "admin" || m.role === "supervisor";
    for (const id of ["ledger-csv", "ledger-xlsx", "ledger-month-label"]) $(id).classList.toggle("hidden", !canLedger);
    $("ledger-month").value = m.today.slice(0, 7);
    ledgerLinks();
    return route();
  }).catch((err) => toast(GH.errorLabel(err), true));
})();
