"use strict";
// 智能导办 (/guide/ and /guide/<code>): the same search and 情形引导 as the kiosk, for phones
// and the hall's website. Reads the public Hall API (/api/v1/guide, /api/v1/matters); no
// session, nothing personal. The situation's answers ride in the address (?tags=), so a
// printed 告知单's QR code and a shared link open the same checklist.
(() => {
  const { el, bi, biText } = GH;
  const $ = (id) => document.getElementById(id);
  const FORMS = { "原件": "guide_form_original", "复印件": "guide_form_copy",
    "原件及复印件": "guide_form_both" };
  let popular = [];

  async function getJSON(url) {
    const resp = await fetch(url, { cache: "no-store" });
    if (resp.status === 404) return null;
    if (!resp.ok) throw new Error(String(resp.status));
    return resp.json();
  }

  function showError() {
    $("g-empty").classList.add("hidden");
    $("g-elsewhere").classList.remove("hidden");
    $("g-elsewhere").replaceChildren(bi("guide_network_error"));
  }

  // -- the list: popular matters, or the ranked answers of a search ----------------------
  function hitButton(h) {
    const tag = h.kind === "bundle" ? el("span", { class: "g-tag" }, GH.zh("guide_bundle")) : null;
    const meta = el("div", { class: "g-meta" }, h.service_name || h.service);
    const b = el("button", { class: "g-hit" + (h.kind === "bundle" ? " bundle" : ""), type: "button",
      "data-code": h.code }, tag, biText(h.name, h.name_en), meta);
    b.addEventListener("click", () => open(h.code, ""));
    return b;
  }

  function showList(title, hits, elsewhere, searched) {
    $("g-matter").classList.add("hidden");
    $("g-missing").classList.add("hidden");
    $("g-list").classList.remove("hidden");
    $("g-list-title").replaceChildren(bi(title));
    $("g-results").replaceChildren(...hits.map(hitButton));
    $("g-empty").classList.toggle("hidden", !(searched && !hits.length && !elsewhere));
    const where = $("g-elsewhere");
    where.classList.toggle("hidden", !elsewhere);
    if (elsewhere) {
      where.replaceChildren(bi("guide_elsewhere"), biText(elsewhere.where, elsewhere.where_en));
    }
  }

  async function search(q) {
    if (!q.trim()) return showList("guide_popular", popular, null, false);
    try {
      const body = await getJSON("/api/v1/guide?limit=6&q=" + encodeURIComponent(q));
      showList("guide_results", body.results, body.elsewhere, true);
    } catch (e) { showError(); }
  }

  // -- one matter or bundle: the checklist first, then the rest of its 办事指南 -------------
  function material(m) {
    const form = GH.zh(FORMS[m.form]) + GH.zh("guide_copies", { n: m.copies });
    const formEn = GH.en(FORMS[m.form]) + " " + GH.en("guide_copies", { n: m.copies });
    const extra = [m.e_license ? GH.zh("guide_e_license") : "", m.note].filter(Boolean).join("；");
    return el("li", { "data-name": m.name }, biText(m.name, m.name_en),
      el("div", { class: "g-meta" }, form + (extra ? "；" + extra : ""),
        el("span", { class: "en inline" }, formEn)));
  }

  function fact(key, value, valueEn) {
    return [el("dt", {}, bi(key)), el("dd", {}, biText(value, valueEn))];
  }

  function daysText(g, lang) {
    const t = lang === "zh" ? GH.zh : GH.en;
    const parts = [];
    if (g.time_limit_legal_days) parts.push(t("guide_legal_days", { n: g.time_limit_legal_days }));
    parts.push(g.time_limit_promised_days
      ? t("guide_promised_days", { n: g.time_limit_promised_days }) : t("guide_on_the_spot"));
    return parts.join(lang === "zh" ? "，" : ", ");
  }

  function questions(g, tags) {
    const box = $("g-questions");
    box.classList.toggle("hidden", !g.questions || !g.questions.length);
    if (!g.questions) return;
    $("g-question-list").replaceChildren(...g.questions.map((q) => el("div", { class: "g-question" },
      el("div", { class: "g-q" }, biText(q.text, q.text_en)),
      el("div", { class: "g-options" }, ...q.options.map((o) => {
        const b = el("button", { class: "btn", type: "button", "data-tag": o.tag,
          "aria-pressed": tags.includes(o.tag) ? "true" : "false" }, biText(o.text, o.text_en));
        b.addEventListener("click", () => {
          const others = q.options.map((x) => x.tag);
          const next = tags.filter((t) => !others.includes(t));
          if (!tags.includes(o.tag)) next.push(o.tag);
          open(g.code, next.join(","));
        });
        return b;
      })))));
  }

  function showMatter(g) {
    $("g-list").classList.add("hidden");
    $("g-missing").classList.add("hidden");
    $("g-matter").classList.remove("hidden");
    $("g-name").replaceChildren(biText(g.name, g.name_en));
    const counters = g.counters.map((c) => c.name).join("、");
    const countersEn = g.counters.map((c) => c.name_en || "Counter " + c.id).join(", ");
    $("g-queue").replaceChildren(
      el("div", {}, bi("guide_queue", null, true), "：", g.service_name || g.service),
      el("div", {}, bi("guide_counters", null, true), "：", counters,
        el("span", { class: "en inline" }, countersEn)));
    const tags = g.tags || [];
    if (g.kind === "matter") questions(g, tags);
    else $("g-questions").classList.add("hidden");
    $("g-checklist").replaceChildren(...g.checklist.map(material));
    $("g-members").classList.toggle("hidden", g.kind !== "bundle");
    $("g-conditions-box").classList.toggle("hidden", g.kind !== "matter");
    $("g-faq-box").classList.toggle("hidden", g.kind !== "matter");
    if (g.kind === "bundle") {
      $("g-member-list").replaceChildren(...g.matters.map((m) => el("li", {},
        biText(m.name, m.name_en))));
      $("g-facts").replaceChildren(...fact("guide_bundle", g.note, ""));
      return;
    }
    $("g-conditions").replaceChildren(...g.conditions.map((c) => el("li", {}, c)));
    $("g-faq").replaceChildren(...g.faq.flatMap((f) => [el("dt", {}, f.q), el("dd", {}, f.a)]));
    const visits = g.visits ? GH.zh("guide_visits_n", { n: g.visits }) : GH.zh("guide_visits_0");
    const visitsEn = g.visits ? GH.en("guide_visits_n", { n: g.visits }) : GH.en("guide_visits_0");
    const online = GH.zh(g.online ? "guide_online_yes" : "guide_online_no") +
      (g.online_note ? "：" + g.online_note : "");
    $("g-facts").replaceChildren(
      ...fact("guide_time_limit", daysText(g, "zh"), daysText(g, "en")),
      ...fact("guide_fee", g.fee, g.fee_en),
      ...fact("guide_visits", visits, visitsEn),
      ...fact("guide_online", online, GH.en(g.online ? "guide_online_yes" : "guide_online_no")),
      ...fact("guide_basis", g.basis.join("、"), ""));
  }

  async function open(code, tags, replace) {
    const url = "/guide/" + encodeURIComponent(code) + (tags ? "?tags=" + encodeURIComponent(tags) : "");
    if (location.pathname + location.search !== url) {
      history[replace ? "replaceState" : "pushState"]({}, "", url);
    }
    try {
      const g = await getJSON("/api/v1/matters/" + encodeURIComponent(code) +
        (tags ? "?tags=" + encodeURIComponent(tags) : ""));
      if (!g) {
        $("g-list").classList.add("hidden");
        $("g-matter").classList.add("hidden");
        $("g-missing").classList.remove("hidden");
        return;
      }
      showMatter(g);
      window.scrollTo(0, 0);
    } catch (e) { showError(); }
  }

  function route() {
    const parts = location.pathname.split("/").filter(Boolean);
    if (parts.length >= 2) return open(decodeURIComponent(parts[1]), GH.param("tags") || "", true);
    const q = GH.param("q") || "";
    $("g-q").value = q;
    return search(q);
  }

  const typed = GH.debounce(() => {
    const q = $("g-q").value;
    history.replaceState({}, "", q ? "/guide/?q=" + encodeURIComponent(q) : "/guide/");
    search(q);
  }, 250);
  $("g-q").addEventListener("input", typed);
  $("g-form").addEventListener("submit", (ev) => { ev.preventDefault(); typed(); });
  $("g-back").addEventListener("click", () => {
    history.pushState({}, "", "/guide/" + ($("g-q").value ? "?q=" + encodeURIComponent($("g-q").value) : ""));
    route();
  });
  window.addEventListener("popstate", route);

  getJSON("/api/v1/matters").then((entries) => {
    popular = entries.filter((e) => e.popular);
  }).catch(() => {}).finally(route);
})();
