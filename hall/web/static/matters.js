"use strict";
// The 办件编号 panel of the counter page (好差评 一次一评): staff type or scan the case number
// their business system gave for the ticket at the counter (a scanner types it and Enter),
// or let the hall make one in its format; a visit of several matters gets several, and the
// pad asks one rating per matter. 邀请评价 makes the pad ask; staff never give a score.
(() => {
  const { el, bi, biText, api, toast } = GH;
  const $ = (id) => document.getElementById(id);
  let counterId = null;

  function base() { return "/web/api/counters/" + encodeURIComponent(counterId); }

  function show(data) {
    $("matters-ticket").textContent = data.number || "";
    const list = $("matters-list");
    if (!data.ticket) return list.replaceChildren(el("div", { class: "shortcuts" }, bi("matters_no_ticket", null, true)));
    if (!data.matters.length) return list.replaceChildren(el("div", { class: "shortcuts" }, bi("matters_none", null, true)));
    // a matter the citizen chose at the kiosk's 我要办 (a bundle's, or one) shows its name
    list.replaceChildren(...data.matters.map((m) => el("div", { class: m.name ? "matter named" : "matter", "data-matter": m.matter_no },
      m.name ? el("span", { class: "matter-name", "data-code": m.code }, biText(m.name, m.name_en || "")) : null,
      el("code", {}, m.matter_no),
      el("span", { class: "where" }, bi("matters_source_" + m.source, null, true)),
      el("span", { class: "badge " + (m.rated ? "open" : "paused") },
        bi(m.rated ? "matters_rated" : "matters_unrated", null, true)))));
  }

  async function load() {
    try { show(await api("GET", base() + "/matters")); }
    catch (err) { toast(GH.errorLabel(err), true); }
  }

  async function add(matterNo) {
    try {
      show(await api("POST", base() + "/matters", matterNo ? { matter_no: matterNo } : {}));
      $("matter-no").value = "";
    } catch (err) { toast(GH.errorLabel(err), true); }
  }

  document.addEventListener("gh:counter", (ev) => {
    counterId = ev.detail.counterId;
    load();
  });
  $("matters-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("matter-no").value.trim();
    if (v) add(v);
  });
  $("matter-generate").addEventListener("click", () => add(null));
  $("pad-invite").addEventListener("click", async () => {
    try {
      await api("POST", base() + "/pad/invite", {});
      toast(bi("pad_invited"));
    } catch (err) { toast(GH.errorLabel(err), true); }
  });
})();
