"use strict";
// The citizen's ticket (/t/<token>): number, state, people ahead and estimated wait. It
// re-reads its state when the hall says something changed in its service, and every
// 30 s in case the phone slept through an event.
(() => {
  const { bi, biText } = GH;
  const $ = (id) => document.getElementById(id);
  const token = location.pathname.split("/")[2];
  let service = null;

  async function refresh() {
    let resp;
    try {
      resp = await fetch("/t/" + encodeURIComponent(token) + "/state", { cache: "no-store" });
    } catch (e) {
      $("t-updated").replaceChildren(bi("network_error", null, true));
      return;
    }
    if (resp.status === 404) {
      $("ticket-body").classList.add("hidden");
      $("t-missing").classList.remove("hidden");
      return;
    }
    if (!resp.ok) return;
    render(await resp.json());
  }

  function render(t) {
    service = t.service;
    $("t-number").textContent = t.number;
    $("t-service").replaceChildren(biText(t.service_name, t.service_name_en));
    const counter = { counter: t.counter_name || "" };
    const counterEn = { counter: t.counter_name_en || (t.counter ? "Counter " + t.counter : "") };
    const state = $("t-state");
    state.className = "state " + ({ called: "called", serving: "called", done: "done" }[t.status] || "");
    const line = (key) => biText(GH.zh(key, counter), GH.en(key, counterEn));
    const byStatus = { waiting: () => bi("status_waiting"), called: () => line("ticket_called"),
      serving: () => line("ticket_serving"), done: () => bi("ticket_done"),
      no_show: () => bi("ticket_no_show"), parked: () => bi("ticket_parked"),
      expired: () => bi("ticket_expired") };
    state.replaceChildren((byStatus[t.status] || (() => bi("status_" + t.status)))());
    const waiting = t.status === "waiting";
    $("t-figures").classList.toggle("hidden", !waiting);
    $("t-ahead").textContent = waiting ? String(t.waiting_ahead) : "—";
    // the hall's range (as printed on the ticket) when it has one, else its single estimate
    const lo = Math.round((t.wait_range_min_s || 0) / 60);
    const hi = Math.round((t.wait_range_max_s || 0) / 60);
    const single = Math.max(1, Math.round(t.estimated_wait_s / 60));
    const figure = hi >= 1 ? (lo >= 1 ? lo + "–" + hi : "≤ " + hi) : String(single);
    $("t-wait").textContent = waiting ? figure + " " + GH.zh("minutes") : "—";
    const time = GH.clockTime();  // the hall's time, as on its board
    $("t-updated").replaceChildren(bi("ticket_updated", { time }, true));
  }

  const refreshSoon = GH.debounce(refresh, 300);
  const src = new EventSource("/t/" + encodeURIComponent(token) + "/events");
  src.addEventListener("changed", (ev) => {
    const data = JSON.parse(ev.data || "{}");
    if (!data.service || !service || data.service === service) refreshSoon();
  });
  setInterval(refresh, 30000);
  refresh();
})();

// 好差评 from the phone (channel phone): once service finished, for a few days, the page
// offers the five levels; a 差评 asks why. A visit the pad rated is asked again as a check.
(() => {
  const { bi } = GH;
  const $ = (id) => document.getElementById(id);
  const token = location.pathname.split("/")[2];
  const base = "/t/" + encodeURIComponent(token) + "/rating";
  let score = null;

  async function offer() {
    try {
      const r = await fetch(base, { cache: "no-store" });
      if (!r.ok) return;
      const o = await r.json();
      $("t-rating").classList.toggle("hidden", !o.offer);
      $("t-rating-check").classList.toggle("hidden", o.offer !== "check");
      if (o.until) $("t-rating-until").replaceChildren(bi("phone_rating_until", { until: o.until.slice(0, 16).replace("T", " ") }, true));
      document.body.dataset.rating = o.offer || "none";
    } catch (e) { /* the rating waits for the next refresh */ }
  }
  async function send(reasons, comment) {
    const body = { score };
    if (reasons.length) body.reasons = reasons;
    if (comment) body.comment = comment;
    const r = await fetch(base, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    $("t-rating").classList.add("hidden");
    if (r.ok) $("t-rating-thanks").classList.remove("hidden");
    document.body.dataset.rating = r.ok ? "sent" : "failed";
  }
  document.querySelectorAll("[data-phone-score]").forEach((b) => b.addEventListener("click", () => {
    score = Number(b.dataset.phoneScore);
    if (score > 2) return send([], null);
    $("t-rating-reasons").classList.remove("hidden");
  }));
  document.querySelectorAll("[data-phone-reason]").forEach((b) => b.addEventListener("click", () =>
    b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true")));
  $("t-rating-send").addEventListener("click", () => send(
    [...document.querySelectorAll("[data-phone-reason][aria-pressed='true']")].map((b) => b.dataset.phoneReason),
    $("t-rating-comment").value.trim() || null));
  offer();
  setInterval(offer, 30000);
})();
