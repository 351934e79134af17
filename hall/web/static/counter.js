"use strict";
// 叫号 page: one counter, big buttons and single-key shortcuts. The page holds no state of
// its own: after every action and every hall event it re-reads the counter's snapshot.
(() => {
  const { el, bi, biText, api, toast } = GH;
  const $ = (id) => document.getElementById(id);
  let me = null, counterId = null, snap = null, stream = null;
  let inflight = null, inflightPath = null;  // the one action on its way to the hall

  const SHORTCUTS = { n: "call-next", r: "recall", s: "start", f: "finish", x: "no-show",
    h: "park", t: "transfer", p: "pause" };

  function chooseCounter() {
    const allowed = me.counters_info;
    const wanted = GH.param("c") || localStorage.getItem("govhall.counter");
    const found = allowed.find((c) => c.id === wanted);
    if (found) return select(found.id);
    if (allowed.length === 1) return select(allowed[0].id);
    $("counter-choices").replaceChildren(...allowed.map((c) =>
      el("button", { class: "btn", type: "button", "data-counter": c.id,
        onclick: () => select(c.id) }, biText(c.name, c.name_en))));
    $("choose-modal").classList.remove("hidden");
  }

  function select(id) {
    counterId = id;
    localStorage.setItem("govhall.counter", id);
    history.replaceState(null, "", "/web/counter?c=" + encodeURIComponent(id));
    $("choose-modal").classList.add("hidden");
    refresh().then(listen);
  }

  const refreshSoon = GH.debounce(() => refresh(), 250);

  async function refresh() {
    try {
      snap = await api("GET", "/web/api/counters/" + encodeURIComponent(counterId));
      render();
      // the 办件编号 panel (matters.js) follows the counter's snapshot
      document.dispatchEvent(new CustomEvent("gh:counter", { detail: { counterId, snap } }));
      document.body.dataset.ready = "1";  // shortcuts work from now on (tests wait for it)
    } catch (err) { toast(GH.errorLabel(err), true); }
  }

  function listen() {
    if (stream) stream.close();
    stream = GH.events("/web/api/events?last_event_id=" + snap.last_event_id, (type, data) => {
      if (type === "help.requested") {
        toast(el("span", {}, bi("help_requests", null, true), " · ", GH.helpWhere(data)), true);
      }
      refreshSoon();
    });
  }

  function fact(labelKey, value) {
    return el("div", {}, el("span", { class: "label" }, GH.zh(labelKey)), value);
  }

  function render() {
    const st = snap.status, info = me.counters_info.find((c) => c.id === counterId);
    $("counter-name").replaceChildren(biText(info.name, info.name_en));
    const badge = $("counter-state");
    badge.className = "badge " + st.state;
    badge.replaceChildren(bi("counter_" + st.state, null, true));
    if (st.state === "paused" && st.reason) badge.append(" · " + st.reason.split(" ")[0]);
    $("pause-label").replaceChildren(bi(st.state === "paused" ? "btn_resume" : "btn_pause"));
    $("btn-pause").className = "btn " + (st.state === "paused" ? "green" : "grey");

    const cur = st.current;
    const box = $("current");
    if (cur) {
      box.replaceChildren(
        el("div", { class: "number", id: "current-number" }, cur.number),
        el("div", { class: "facts" },
          el("div", {}, biText(cur.service_name, cur.service_name_en)),
          el("div", {}, el("span", { class: "badge " + (cur.status === "serving" ? "open" : "paused") },
            bi("status_" + cur.status, null, true)),
            cur.priority !== "normal" ? el("span", { class: "badge closed" },
              bi("priority_" + cur.priority, null, true)) : null,
            // 人工核验: the citizen declined the face check (or it failed): check the ID card
            cur.verification === "manual" ? el("span", { class: "badge paused",
              id: "manual-verification" }, bi("manual_verification", null, true)) : null),
          cur.name_masked ? fact("name_masked", cur.name_masked) : null,
          cur.id_masked ? fact("id_masked", cur.id_masked) : null,
          cur.recall_count ? el("div", {}, GH.zh("recall_count", { n: cur.recall_count })) : null,
          cur.note ? fact("note", cur.note) : null));
    } else {
      box.replaceChildren(el("div", { class: "empty", id: "current-number" }, bi("no_current")));
    }
    const paused = st.state === "paused";
    const called = cur && cur.status === "called";
    $("btn-call-next").disabled = paused;
    $("btn-recall").disabled = !called;
    $("btn-start").disabled = !called;
    for (const id of ["btn-finish", "btn-no-show", "btn-park", "btn-transfer"]) {
      $(id).disabled = !cur;
    }
    $("btn-no-show").disabled = !called;

    const t = snap.today;
    $("today-served").textContent = t.served;
    $("today-called").textContent = t.called;
    $("today-no-show").textContent = t.no_show;
    $("today-avg").textContent = GH.duration(t.service_avg_s);

    const names = Object.fromEntries(snap.services.map((s) => [s.code, s]));
    $("waiting").replaceChildren(...Object.entries(st.waiting).map(([code, n]) =>
      el("tr", { "data-service": code },
        el("td", {}, code), el("td", {}, biText(names[code].name, names[code].name_en)),
        el("td", { class: "num waiting-count" }, String(n)), el("td", {}, GH.zh("people")))));

    $("parked").replaceChildren(...(st.parked.length ? st.parked.map((p) =>
      el("div", { class: "help-item" }, el("b", {}, p.number),
        el("button", { class: "btn small", type: "button",
          onclick: () => post("/call", { ticket: p.id }) }, bi("call_back", null, true))))
      : [el("div", { class: "shortcuts" }, bi("no_parked", null, true))]));

    const help = snap.help;
    $("help-panel").classList.toggle("none", help.length === 0);
    $("help-list").replaceChildren(...(help.length ? help.map((h) =>
      el("div", { class: "help-item", "data-help": h.id },
        el("span", {}, el("b", { class: "help-where" }, GH.helpWhere(h)),
          el("span", { class: "help-time" }, h.created_at.slice(11, 16)),
          el("span", { class: "help-reason" }, GH.helpReason(h)),
          h.service_name ? el("b", { class: "help-service" }, " " + h.service_name) : ""),
        h.reason === "passport" ? el("button", { class: "btn small", type: "button",
          "data-help-ticket": h.id, onclick: () => helpTicket(h.id) },
        bi("help_ticket", null, true)) : "",
        el("button", { class: "btn small green", type: "button",
          onclick: () => resolveHelp(h.id) }, bi("resolve", null, true))))
      : [el("div", { class: "shortcuts" }, bi("no_help", null, true))]));
  }

  async function post(path, body) {
    // A double press is one action; a different key pressed while the last action is on its
    // way (重呼 then 开始办理 at once) waits for it instead of being dropped.
    if (inflight && inflightPath === path) return;
    while (inflight) await inflight.catch(() => {});
    inflightPath = path;
    inflight = send(path, body);
    try { return await inflight; } finally { inflight = null; inflightPath = null; }
  }
  async function send(path, body) {
    try {
      const res = await api("POST", "/web/api/counters/" + encodeURIComponent(counterId) + path,
        body === undefined ? {} : body);
      if (path === "/do/call-next" && res && res.ticket === null) toast(bi("nobody_waiting"));
      await refresh();
      return res;
    } catch (err) {
      toast(GH.errorLabel(err), true);
      if (err.status === 409) await refresh();
    }
  }

  async function helpTicket(id) {  // 帮办取号 for a passport holder
    try {
      const tk = await api("POST", "/web/api/help/" + id + "/ticket", {});
      $("help-ticket").replaceChildren(bi("help_ticket_taken", { number: tk.number }, true));
      $("help-ticket").classList.remove("hidden");
      await refresh();
    } catch (err) { toast(GH.errorLabel(err), true); }
  }

  async function resolveHelp(id) {
    try { await api("POST", "/web/api/help/" + id + "/resolve", {}); await refresh(); }
    catch (err) { toast(GH.errorLabel(err), true); }
  }

  function openTransfer() {
    if (!snap || !snap.status.current) return;
    $("transfer-choices").replaceChildren(...snap.services.filter((s) => s.open).map((s) =>
      el("button", { class: "btn", type: "button", "data-service": s.code,
        disabled: s.code === snap.status.current.service,  // already in that queue
        onclick: () => doTransfer(s.code) }, biText(s.code + " " + s.name, s.name_en))));
    $("transfer-note").value = "";
    $("transfer-return").checked = false;
    $("transfer-modal").classList.remove("hidden");
  }
  async function doTransfer(code) {
    $("transfer-modal").classList.add("hidden");
    await post("/transfer", { service: code, return_here: $("transfer-return").checked,
      note: $("transfer-note").value.trim() || null });
  }
  function togglePause() {
    if (!snap) return;
    if (snap.status.state === "paused") post("/do/resume");
    else $("pause-modal").classList.remove("hidden");
  }
  function closeModals() {
    for (const m of document.querySelectorAll(".modal")) {
      if (m.id !== "choose-modal" || counterId) m.classList.add("hidden");
    }
  }

  function act(action) {
    if (action === "transfer") return openTransfer();
    if (action === "pause") return togglePause();
    const button = document.querySelector(`[data-action="${action}"]`);
    if (button && button.disabled) return;
    return post("/do/" + action);
  }

  document.querySelectorAll("[data-action]").forEach((b) =>
    b.addEventListener("click", () => act(b.dataset.action)));
  $("btn-transfer").addEventListener("click", openTransfer);
  $("btn-pause").addEventListener("click", togglePause);
  document.querySelectorAll("[data-reason]").forEach((b) => b.addEventListener("click", () => {
    $("pause-modal").classList.add("hidden");
    post("/pause", { reason: b.dataset.reason });
  }));
  document.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", closeModals));
  $("logout").addEventListener("click", GH.logout);
  $("switch-counter").addEventListener("click", () => {
    localStorage.removeItem("govhall.counter");
    location.href = "/web/counter";
  });
  $("open-pad").addEventListener("click", () => {
    window.open("/web/pad?c=" + encodeURIComponent(counterId), "govhall-pad");
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") return closeModals();
    if (ev.ctrlKey || ev.altKey || ev.metaKey || !counterId) return;
    if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement) return;
    if (document.querySelector(".modal:not(.hidden)")) return;  // a dialog takes the keys
    const action = SHORTCUTS[ev.key.toLowerCase()];
    if (action) { ev.preventDefault(); act(action); }
  });

  GH.startClock($("clock"));
  GH.me().then((m) => {
    me = m;
    $("who").textContent = m.display_name +
      (m.staff_no ? " · " + GH.zh("pad_staff_no", { no: m.staff_no }) : "");
    if (m.counters_info.length > 1) $("switch-counter").classList.remove("hidden");
    chooseCounter();
  }).catch((err) => toast(GH.errorLabel(err), true));
})();
