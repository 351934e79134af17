"use strict";
// 评价器: a tablet or second screen bound to one counter. It asks about the ticket the
// server says was just finished there and not rated yet, and shows who served (the name
// and 工号 of the account logged in on the pad). One tap rates; after 不满意 or 非常不满意
// (score 1–2) it asks why (tappable reasons, optional words); then, as an optional second
// step, the three fixed indicators (服务效率, 服务水平, 服务态度), which may be skipped. A
// visit of several matters (办件编号) is rated once per matter, one after the other.
(() => {
  const { el, bi, biText, api } = GH;
  const $ = (id) => document.getElementById(id);
  const LOW_SCORE = 2;
  const ASK_S = 45;  // a citizen who walks away from the reasons: the score still counts
  let me = null, counterId = null, ticket = null, thanksUntil = 0, stream = null;
  let asking = null, askTimer = null;  // {ticket, score, reasons, comment} while asking more

  function show(id) {
    for (const s of ["pad-choose", "pad-welcome", "pad-ask", "pad-reasons", "pad-indicators",
      "pad-thanks"]) {
      $(s).classList.toggle("hidden", s !== id);
    }
  }

  function showStaff(staff) {
    const box = $("pad-staff");
    if (!staff || !staff.name) return box.replaceChildren();
    box.replaceChildren(
      el("span", { id: "pad-staff-name" }, bi("pad_staff", { name: staff.name }, true)),
      staff.staff_no ? el("span", { id: "pad-staff-no" },
        bi("pad_staff_no", { no: staff.staff_no }, true)) : null);
  }

  async function refresh() {
    if (Date.now() < thanksUntil || asking) return;
    try {
      const state = await api("GET", "/web/api/counters/" + encodeURIComponent(counterId) + "/pad");
      $("pad-counter").replaceChildren(biText(state.counter_name, state.counter_name_en));
      showStaff(state.staff);
      ticket = state.ticket;
      if (ticket) {
        $("pad-ticket").replaceChildren(bi("pad_ticket", { number: ticket.number }, true));
        $("pad-matter").replaceChildren(ticket.matter_no && ticket.matters > 1
          ? bi("pad_matter", { index: ticket.matter_index, count: ticket.matters,
            matter: ticket.matter_no }, true) : "");
        show("pad-ask");
      } else {
        show("pad-welcome");
      }
      return state;
    } catch (err) { GH.toast(GH.errorLabel(err), true); }
  }
  const refreshSoon = GH.debounce(refresh, 200);

  function rate(score) {
    if (!ticket) return;
    const rated = ticket;
    ticket = null;
    asking = { ticket: rated, score, reasons: [], comment: null };
    if (score <= LOW_SCORE) return askReasons();
    return askIndicators();
  }

  function askReasons() {
    for (const b of document.querySelectorAll("[data-reason]")) b.setAttribute("aria-pressed", "false");
    $("pad-comment").value = "";
    $("pad-contact").value = "";
    show("pad-reasons");
    waitForReasons();
  }
  // A citizen who walks away: what was given is sent, the score still counts.
  function waitForReasons() {
    clearTimeout(askTimer);
    askTimer = setTimeout(() => { takeReasons(); sendNow(); }, ASK_S * 1000);
  }
  function takeReasons() {
    asking.reasons = [...document.querySelectorAll("[data-reason][aria-pressed='true']")]
      .map((b) => b.dataset.reason);
    asking.comment = $("pad-comment").value.trim() || null;
    asking.contact = $("pad-contact").value.trim() || null;
  }
  function reasonsDone() {
    if (!asking) return;
    takeReasons();
    askIndicators();
  }

  function askIndicators() {
    for (const b of document.querySelectorAll("[data-level]")) b.setAttribute("aria-pressed", "false");
    show("pad-indicators");
    waitForIndicators();
  }
  function waitForIndicators() {
    clearTimeout(askTimer);
    askTimer = setTimeout(sendNow, ASK_S * 1000);
  }
  function indicators() {
    const out = {};
    for (const row of document.querySelectorAll("[data-indicator]")) {
      const on = row.querySelector("[data-level][aria-pressed='true']");
      if (on) out[row.dataset.indicator] = Number(on.dataset.level);
    }
    return out;
  }
  function sendNow(skip) {
    if (!asking) return;
    clearTimeout(askTimer);
    const { ticket: rated, score, reasons, comment, contact } = asking;
    asking = null;
    return send(rated, score, reasons, comment, skip ? {} : indicators(), contact);
  }

  async function send(rated, score, reasons, comment, given, contact) {
    thanksUntil = Date.now() + me.pad_thanks_s * 1000;
    show("pad-thanks");
    const body = { ticket: rated.id, score };
    if (rated.matter_no) body.matter_no = rated.matter_no;
    if (reasons.length) body.reasons = reasons;
    if (comment) body.comment = comment;
    if (Object.keys(given).length) body.indicators = given;
    if (contact && /^\+?[0-9 -]{7,20}$/.test(contact)) body.contact = contact;
    try {
      await api("POST", "/web/api/counters/" + encodeURIComponent(counterId) + "/evaluate", body);
    } catch (err) {
      if (err.code !== "already_evaluated") GH.toast(GH.errorLabel(err), true);
    }
    setTimeout(() => { thanksUntil = 0; refresh(); }, me.pad_thanks_s * 1000);
  }

  async function start(id) {
    counterId = id;
    localStorage.setItem("govhall.padCounter", id);
    history.replaceState(null, "", "/web/pad?c=" + encodeURIComponent(id));
    const state = await refresh();
    if (stream) stream.close();
    stream = GH.events("/web/api/events?last_event_id=" + (state ? state.last_event_id : 0),
      (type, data) => {
        const t = data.ticket || {};
        if (type.startsWith("ticket.") && t.counter === counterId) refreshSoon();
      });
    setInterval(refresh, 60000);  // the pad's window for a rating closes after a while
  }

  document.querySelectorAll("[data-score]").forEach((b) =>
    b.addEventListener("click", () => rate(Number(b.dataset.score))));
  document.querySelectorAll("[data-reason]").forEach((b) => b.addEventListener("click", () => {
    b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
    waitForReasons();
  }));
  $("pad-comment").addEventListener("input", waitForReasons);
  $("pad-contact").addEventListener("input", waitForReasons);
  $("pad-send").addEventListener("click", reasonsDone);
  document.querySelectorAll("[data-indicator]").forEach((row) =>
    row.querySelectorAll("[data-level]").forEach((b) => b.addEventListener("click", () => {
      const was = b.getAttribute("aria-pressed") === "true";
      row.querySelectorAll("[data-level]").forEach((o) => o.setAttribute("aria-pressed", "false"));
      b.setAttribute("aria-pressed", was ? "false" : "true");
      waitForIndicators();
    })));
  $("pad-ind-send").addEventListener("click", () => sendNow(false));
  $("pad-skip").addEventListener("click", () => sendNow(true));

  GH.me().then((m) => {
    me = m;
    const wanted = GH.param("c") || localStorage.getItem("govhall.padCounter");
    const found = m.counters_info.find((c) => c.id === wanted);
    if (found) return start(found.id);
    if (m.counters_info.length === 1) return start(m.counters_info[0].id);
    $("pad-counters").replaceChildren(...m.counters_info.map((c) =>
      el("button", { class: "btn", type: "button", onclick: () => start(c.id) },
        biText(c.name, c.name_en))));
    show("pad-choose");
  }).catch((err) => GH.toast(GH.errorLabel(err), true));
})();
