"use strict";
// 评价器: a tablet or second screen bound to one counter. It asks about the ticket the
// server says was just finished there and not rated yet; one tap rates, then thanks.
(() => {
  const { el, bi, biText, api } = GH;
  const $ = (id) => document.getElementById(id);
  let me = null, counterId = null, ticket = null, thanksUntil = 0, stream = null;

  function show(id) {
    for (const s of ["pad-choose", "pad-welcome", "pad-ask", "pad-thanks"]) {
      $(s).classList.toggle("hidden", s !== id);
    }
  }

  async function refresh() {
    if (Date.now() < thanksUntil) return;
    try {
      const state = await api("GET", "/web/api/counters/" + encodeURIComponent(counterId) + "/pad");
      $("pad-counter").replaceChildren(biText(state.counter_name, state.counter_name_en));
      ticket = state.ticket;
      if (ticket) {
        $("pad-ticket").replaceChildren(bi("pad_ticket", { number: ticket.number }, true));
        show("pad-ask");
      } else {
        show("pad-welcome");
      }
      return state;
    } catch (err) { GH.toast(GH.errorLabel(err), true); }
  }
  const refreshSoon = GH.debounce(refresh, 200);

  async function rate(score) {
    if (!ticket) return;
    const rated = ticket;
    ticket = null;
    thanksUntil = Date.now() + me.pad_thanks_s * 1000;
    show("pad-thanks");
    try {
      await api("POST", "/web/api/counters/" + encodeURIComponent(counterId) + "/evaluate",
        { ticket: rated.id, score });
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
