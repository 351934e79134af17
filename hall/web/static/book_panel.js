"use strict";
// 今日预约 (issue 21) on the dashboard and the counter page: per service the places open to
// booking, and how many are expected (待到), arrived (已到), missed (爽约) and cancelled.
// An admin also books for a citizen at the desk (no phone needed) and closes a day with a
// notice that everyone booked on it sees on their booking page. Words come from the server.
(() => {
  const box = document.getElementById("bk-panel");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  let texts = {};
  let built = false;

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  }
  function say(key, vars) {
    const e = texts[key] || { zh: key, en: "" };
    return GH.biText(fill(e.zh, vars), fill(e.en, vars));
  }
  function result(content, isError) {
    const node = $("bk-result");
    node.className = "bk-result" + (isError ? " error" : "");
    node.replaceChildren(content);
  }
  const today = () => new Date().toLocaleDateString("sv-SE", { timeZone: GH.timeZone || undefined });

  function counts(summary) {
    const head = GH.el("tr", {}, GH.el("th", {}, say("panel_service")),
      ...["panel_capacity", "panel_booked", "panel_arrived", "panel_no_show", "panel_cancelled"]
        .map((k) => GH.el("th", { class: "n" }, say(k))));
    const rows = summary.services.map((s) => GH.el("tr", { "data-service": s.service },
      GH.el("td", {}, s.service_name),
      ...[s.capacity, s.booked, s.arrived, s.no_show, s.cancelled].map((v, i) =>
        GH.el("td", { class: "n", "data-k": ["capacity", "booked", "arrived", "no_show", "cancelled"][i] }, String(v)))));
    $("bk-counts").replaceChildren(head, ...rows);
  }

  function field(key, input) { return GH.el("label", {}, say(key), input); }

  function serviceSelect(services, all) {
    const sel = GH.el("select", {});
    if (all) sel.append(GH.el("option", { value: "" }, texts.panel_all_services ? texts.panel_all_services.zh : ""));
    for (const s of services) sel.append(GH.el("option", { value: s.code }, s.name));
    return sel;
  }

  async function fillSlots(service, day, select) {
    select.replaceChildren();
    let res;
    try {
      res = await fetch("/api/v1/booking/slots?service=" + encodeURIComponent(service) +
        "&from=" + day + "&to=" + day, { cache: "no-store" });
    } catch (e) { return; }
    if (!res.ok) return;
    const plan = await res.json();
    for (const d of plan.days) {
      for (const s of d.slots) {
        if (s.left > 0) select.append(GH.el("option", { value: s.start }, s.start.slice(11, 16) + " (" + s.left + ")"));
      }
    }
  }

  function build(res) {
    const services = res.services;
    // the desk's booking for a citizen
    const svc = serviceSelect(services, false);
    const day = GH.el("input", { type: "date", id: "bk-desk-day" });
    const slot = GH.el("select", { id: "bk-desk-slot" });
    const name = GH.el("input", { id: "bk-desk-name", maxlength: "30", autocomplete: "off" });
    const idn = GH.el("input", { id: "bk-desk-id", maxlength: "18", autocomplete: "off", type: "password" });
    const phone = GH.el("input", { id: "bk-desk-phone", maxlength: "20", autocomplete: "off", type: "tel" });
    svc.id = "bk-desk-service";
    const refreshSlots = () => { if (day.value) fillSlots(svc.value, day.value, slot); };
    svc.addEventListener("change", refreshSlots);
    day.addEventListener("change", refreshSlots);
    const desk = GH.el("form", { class: "bk-form", id: "bk-desk" },
      GH.el("h3", {}, say("panel_desk_book")),
      field("panel_service", svc), field("panel_day", day), field("panel_time", slot),
      field("field_name", name), field("field_id", idn), field("field_phone", phone),
      GH.el("button", { type: "submit", class: "btn", id: "bk-desk-submit" }, say("panel_submit")),
      GH.el("div", { class: "bk-hint" }, say("book_no_phone")));
    desk.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const b = await GH.api("POST", "/web/api/bookings", { service: svc.value,
          slot_start: slot.value, name: name.value, id_number: idn.value, phone: phone.value || null });
        result(say("panel_booked_ok", { code: b.code.slice(0, 5) + "-" + b.code.slice(5) }), false);
        name.value = ""; idn.value = ""; phone.value = "";
        refresh(); refreshSlots();
      } catch (err) { result(GH.errorLabel(err), true); }
    });
    // closing a day for booking, with a notice
    const cday = GH.el("input", { type: "date", id: "bk-close-day" });
    const csvc = serviceSelect(services, true);
    csvc.id = "bk-close-service";
    const notice = GH.el("input", { id: "bk-close-notice", class: "wide", maxlength: "200" });
    const close = GH.el("form", { class: "bk-form", id: "bk-close" },
      GH.el("h3", {}, say("panel_close_day")),
      field("panel_day", cday), field("panel_service", csvc), field("panel_notice", notice),
      GH.el("button", { type: "submit", class: "btn", id: "bk-close-submit" }, say("panel_submit")));
    close.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const c = await GH.api("POST", "/web/api/booking/closures",
          { day: cday.value, service: csvc.value || null, notice: notice.value });
        result(say("panel_closed_ok", { n: c.cancelled }), false);
        notice.value = "";
        refresh();
      } catch (err) { result(GH.errorLabel(err), true); }
    });
    $("bk-admin").replaceChildren(desk, close);
    $("bk-admin").hidden = false;
  }

  async function refresh() {
    let res;
    try { res = await GH.api("GET", "/web/api/bookings/day?day=" + today()); } catch (e) { return; }
    texts = res.texts;
    $("bk-title").replaceChildren(say("panel_bookings"));
    counts(res.summary);
    box.hidden = false;
    if (res.admin && !built) { built = true; build(res); }
  }
  refresh();
  setInterval(refresh, 30000);
})();
