"use strict";
// Manager dashboard: live hall state (refreshed on hall events), reports with charts and
// CSV, the read-only configuration, and staff accounts.
(() => {
  const { el, bi, biText, api, toast, zh } = GH;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  let me = null, services = {}, stream = null;

  function svg(tag, attrs, text) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  }
  // A plain bar chart: labels under the bars, values above them.
  function bars(labels, values, fmt) {
    const box = el("div");
    if (!values.length || values.every((v) => !v)) {
      box.append(el("div", { class: "shortcuts" }, bi("no_data", null, true)));
    }
    const w = 560, h = 220, pad = 24, n = Math.max(1, labels.length);
    const max = Math.max(1, ...values.map((v) => v || 0));
    const slot = (w - pad) / n, bw = Math.min(56, Math.max(4, slot * 0.7));
    const chart = svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img" });
    labels.forEach((label, i) => {
      const v = values[i] || 0, bh = (h - 2 * pad - 10) * v / max;
      const x = pad / 2 + i * slot + (slot - bw) / 2, y = h - pad - bh;
      chart.append(svg("rect", { class: "bar", x, y, width: bw, height: bh, rx: 3 }));
      chart.append(svg("text", { class: "val", x: x + bw / 2, y: y - 4, "text-anchor": "middle" },
        fmt ? fmt(values[i]) : String(v)));
      chart.append(svg("text", { x: x + bw / 2, y: h - 6, "text-anchor": "middle" }, label));
    });
    box.append(chart);
    return box;
  }

  // Opening hours always on the axis, so one busy hour is not one huge block.
  function hourAxis(byHour) {
    const present = Object.keys(byHour).map(Number);
    const lo = Math.min(8, ...present), hi = Math.max(18, ...present);
    const hours = [];
    for (let h = lo; h <= hi; h++) hours.push(String(h).padStart(2, "0"));
    return hours;
  }

  function kpi(key, value) {
    return el("div", { class: "kpi", "data-kpi": key }, el("div", { class: "v" }, value),
      el("div", { class: "k" }, bi(key, null, true)));
  }
  const pct = (v) => (v === null || v === undefined ? "—" : v + "%");
  const fixed = (v, d) => (v === null || v === undefined ? "—" : Number(v).toFixed(d));

  function kpis(total) {
    const noShowRate = total.called ? Math.round(1000 * total.no_show / total.called) / 10 : null;
    return [kpi("issued", total.issued), kpi("called", total.called), kpi("served", total.served),
      kpi("avg_wait", GH.duration(total.wait_avg_s)), kpi("no_show_rate", pct(noShowRate)),
      kpi("satisfaction", total.satisfaction_avg === null ? "—" :
        fixed(total.satisfaction_avg, 1) + " / 5")];
  }

  // -- live ------------------------------------------------------------------------------
  async function refreshLive() {
    let live;
    try { live = await api("GET", "/web/api/live"); } catch (err) { return toast(GH.errorLabel(err), true); }
    services = Object.fromEntries(live.services.map((s) => [s.code, s]));
    $("live-kpis").replaceChildren(...kpis(live.today));
    $("live-services").replaceChildren(
      el("tr", {}, el("th", {}, ""), el("th", {}, bi("services", null, true)),
        el("th", { class: "num" }, bi("waiting", null, true)),
        el("th", { class: "num" }, bi("longest_wait", null, true))),
      ...live.services.map((s) => el("tr", { "data-service": s.code },
        el("td", {}, s.code), el("td", {}, biText(s.name, s.name_en)),
        el("td", { class: "num waiting-count" }, String(s.waiting)),
        el("td", { class: "num" }, s.waiting ? GH.duration(live.longest_wait_s[s.code]) : "—"))));
    $("live-counters").replaceChildren(...live.counters.map((c) => el("tr", { "data-counter": c.id },
      el("td", {}, biText(c.name, c.name_en)),
      el("td", {}, el("span", { class: "badge " + c.state }, bi("counter_" + c.state, null, true))),
      el("td", {}, c.reason || ""))));
    const hours = hourAxis(live.calls_per_hour);
    $("live-hours").replaceChildren(bars(hours, hours.map((h) => live.calls_per_hour[h] || 0)));
    $("live-help-panel").classList.toggle("none", live.help.length === 0);
    $("live-help").replaceChildren(...(live.help.length ? live.help.map((h) =>
      el("div", { class: "help-item", "data-help": h.id },
        el("span", {}, el("b", { class: "help-where" }, GH.helpWhere(h)),
          el("span", { class: "help-time" }, h.created_at.slice(11, 16)),
          el("span", { class: "help-reason" }, GH.helpReason(h)))))
      : [el("div", { class: "shortcuts" }, bi("no_help", null, true))]));
    $("live-refused-panel").classList.toggle("none", live.import_refusals.length === 0);
    $("live-refused").replaceChildren(...live.import_refusals.map((r) =>
      el("div", { class: "help-item", "data-refused": r.offline_number },
        el("span", {}, el("b", {}, r.kiosk + " · " + r.offline_number),
          el("span", { class: "help-time" }, r.at.slice(11, 16)),
          el("span", { class: "help-reason" }, GH.biText(r.zh, r.en))))));
    $("live-devices").replaceChildren(...(live.devices.length ? [
      el("tr", {}, ...["device_name", "device_state", "device_parts"].map((k) =>
        el("th", {}, bi(k, null, true)))),
      ...live.devices.map(deviceRow)]
      : [el("tr", {}, el("td", {}, bi("no_data", null, true)))]));
    return live;
  }
  const refreshLiveSoon = GH.debounce(refreshLive, 500);

  // A kiosk, board or counter screen: what and where it is, 在线/失联 (silent longer than
  // [policy].device_silent_s), and its parts in words ("读卡器 故障").
  function deviceRow(d) {
    const heard = d.last_seen === null ? bi("device_never", null, true)
      : d.online ? null : bi("device_last_seen", { time: d.last_seen.slice(11, 19) }, true);
    const parts = Object.entries(d.parts);
    return el("tr", { "data-device": d.device, "data-online": d.online ? "1" : "0" },
      el("td", {}, el("b", {}, d.device),
        el("div", { class: "where" }, GH.words("device_kind_", d.kind, true)),
        d.location ? el("div", { class: "where" }, d.location) : null),
      el("td", {}, el("span", { class: "badge " + (d.online ? "open" : "offline") },
        bi(d.online ? "device_online" : "device_offline", null, true)),
        heard ? el("div", { class: "where" }, heard) : null),
      el("td", {}, ...(parts.length ? parts.map(([part, state]) =>
        el("span", { class: "part " + (d.online ? state : "offline"), "data-part": part },
          GH.partLabel(part, d.online ? state : "offline"))) : ["—"])));
  }

  // -- reports ---------------------------------------------------------------------------
  function range() {
    return "from=" + encodeURIComponent($("report-from").value) + "&to=" +
      encodeURIComponent($("report-to").value);
  }
  async function showReport() {
    let r;
    try { r = await api("GET", "/web/api/report?" + range()); }
    catch (err) { return toast(GH.errorLabel(err), true); }
    $("report-csv").href = "/web/api/report.csv?" + range();
    $("report-kpis").replaceChildren(...kpis(r.total));
    const d = r.distributions;
    $("chart-wait").replaceChildren(bars(d.wait_minutes.labels, d.wait_minutes.counts));
    const hours = hourAxis(r.by_hour);
    $("chart-hours").replaceChildren(bars(hours, hours.map((h) =>
      r.by_hour[h] ? r.by_hour[h].called : 0)));
    const cs = Object.keys(r.by_counter);
    $("chart-counters").replaceChildren(bars(cs, cs.map((c) =>
      r.by_counter[c].service_avg_s === null ? 0 : Math.round(r.by_counter[c].service_avg_s / 6) / 10),
      (v) => fixed(v, 1)));
    const ss = Object.keys(r.by_service);
    $("chart-noshow").replaceChildren(bars(ss, ss.map((s) => {
      const v = r.by_service[s];
      return v.called ? Math.round(1000 * v.no_show / v.called) / 10 : 0;
    }), (v) => v + "%"));
    const scores = ["5", "4", "3", "2", "1"];
    $("chart-scores").replaceChildren(bars(scores.map((s) => zh("score_" + s)),
      scores.map((s) => d.scores[s])));
  }

  // -- config ----------------------------------------------------------------------------
  // head: text keys (bi, inline); items: rows of cells (text or nodes); a row that is a
  // node is put in as it is (a section's heading row).
  function rows(table, head, items) {
    $(table).replaceChildren(
      el("tr", {}, ...head.map((k) => el("th", {}, k ? bi(k, null, true) : ""))),
      ...items.map((cells) => cells instanceof Node ? cells
        : el("tr", {}, ...cells.map((c) => el("td", {}, c)))));
  }
  // A setting's label in words, Chinese first, its key small beside it (for whoever edits
  // the file): "老年人绿色通道年龄（周岁） elderly_age".
  function setting(labelKey, key) {
    return el("span", { "data-key": key },
      GH.has(labelKey) ? bi(labelKey, null, true) : biText(key, ""),
      el("code", { class: "key" }, key));
  }
  // A setting's value: yes/no in words, lists and tables written out, "—" for none.
  function value(v) {
    if (typeof v === "boolean") return bi(v ? "yes" : "no", null, true);
    if (v === null || v === "" || (Array.isArray(v) && !v.length)) return "—";
    if (Array.isArray(v)) return el("code", {}, v.join(", "));
    if (typeof v === "object") {
      const pairs = Object.entries(v);
      return pairs.length ? el("code", {}, pairs.map(([k, x]) => k + " → " + x).join(", ")) : "—";
    }
    return el("code", {}, String(v));
  }
  async function showConfig() {
    const c = await api("GET", "/web/api/config");
    rows("cfg-services", ["cfg_code", "cfg_name", "requires_id", "requires_face"],
      c.services.map((s) => [s.code, biText(s.name, s.name_en), s.requires_id ? "✓" : "",
        s.requires_face ? "✓" : ""]));
    rows("cfg-counters", ["cfg_counter_id", "cfg_name", "services"], c.counters.map((k) =>
      [k.id, biText(k.name, k.name_en), k.services.join(", ")]));
    rows("cfg-policy", ["cfg_setting", "cfg_value"], Object.entries(c.policy).map(([k, v]) =>
      [setting("policy_" + k, k), String(v)]));
    rows("cfg-tokens", ["cfg_token_name", "role", "cfg_token_device"], c.tokens.map((t) =>
      [t.name, GH.words("token_role_", t.role, true),
        t.device === "*" ? bi("token_any_device", null, true)
          : (t.device || "") + (t.location ? " · " + t.location : "")]));
    const flat = [];
    for (const [section, table] of Object.entries(c.devices)) {
      flat.push(el("tr", { class: "section" }, el("th", { colspan: 2 },
        setting("cfg_section_" + section, "[" + section + "]"))));
      for (const [k, v] of Object.entries(table)) {
        flat.push([setting(`cfg_${section}_${k}`, k), value(v)]);
      }
    }
    rows("cfg-devices", ["cfg_setting", "cfg_value"], flat);
  }

  // -- accounts --------------------------------------------------------------------------
  let pwUser = null;
  async function showAccounts() {
    const list = await api("GET", "/web/api/accounts");
    $("accounts").replaceChildren(
      el("tr", {}, ...["username", "display_name", "staff_no", "role", "counter_ids",
        "account_services", "active", ""].map((k) => el("th", {}, k ? bi(k, null, true) : ""))),
      ...list.map((a) => el("tr", { "data-account": a.username },
        el("td", {}, a.username), el("td", {}, a.display_name), el("td", {}, a.staff_no || ""),
        el("td", {}, bi("role_" + a.role, null, true)), el("td", {}, a.counters.join(", ")),
        el("td", {}, a.role !== "counter" ? "" : el("span", { class: "form-row" },
          el("input", { "data-services": a.username, value: a.services.join(","),
            placeholder: "A,B", maxlength: "200", size: "8",
            title: GH.zh("account_services_hint") }),
          el("button", { class: "btn small", type: "button", "data-save-services": a.username,
            onclick: () => saveServices(a.username) }, bi("save_services", null, true)))),
        el("td", {}, el("span", { class: "badge " + (a.active ? "open" : "closed") },
          bi(a.active ? "account_active" : "account_disabled", null, true)),
          a.locked ? el("span", { class: "badge paused" }, bi("locked", null, true)) : null),
        el("td", {},
          el("button", { class: "btn small", type: "button", "data-reset": a.username,
            onclick: () => openPassword(a.username) }, bi("reset_password", null, true)), " ",
          a.locked ? el("button", { class: "btn small", type: "button", "data-unlock": a.username,
            onclick: () => unlock(a.username) }, bi("unlock", null, true)) : null, " ",
          a.username === me.username ? null :
            el("button", { class: "btn small " + (a.active ? "red" : "green"), type: "button",
              onclick: () => setActive(a.username, !a.active) },
            bi(a.active ? "disable" : "enable", null, true))))));
  }
  function openPassword(user) {
    pwUser = user;
    $("pw-user").textContent = user;
    $("pw-new").value = "";
    $("password-modal").classList.remove("hidden");
    $("pw-new").focus();
  }
  async function savePassword() {
    try {
      await api("POST", "/web/api/accounts/" + encodeURIComponent(pwUser) + "/password",
        { password: $("pw-new").value });
      $("password-modal").classList.add("hidden");
      toast(bi("saved", null, true));
      showAccounts();
    } catch (err) { toast(GH.errorLabel(err), true); }
  }
  async function unlock(user) {
    try {
      await api("POST", "/web/api/accounts/" + encodeURIComponent(user) + "/unlock");
      toast(bi("saved", null, true));
      showAccounts();
    } catch (err) { toast(GH.errorLabel(err), true); }
  }
  const codes = (text) => text.split(/[,，\s]+/).filter(Boolean);
  async function saveServices(user) {
    const input = document.querySelector(`[data-services="${CSS.escape(user)}"]`);
    try {
      await api("POST", "/web/api/accounts/" + encodeURIComponent(user),
        { services: codes(input.value) });
      toast(bi("saved", null, true));
      showAccounts();
    } catch (err) { toast(GH.errorLabel(err), true); }
  }
  async function setActive(user, active) {
    try {
      await api("POST", "/web/api/accounts/" + encodeURIComponent(user), { active });
      showAccounts();
    } catch (err) { toast(GH.errorLabel(err), true); }
  }
  $("account-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", "/web/api/accounts", {
        username: $("acc-username").value.trim(), display_name: $("acc-display").value.trim(),
        staff_no: $("acc-staff-no").value.trim(),
        role: $("acc-role").value, password: $("acc-password").value,
        counters: codes($("acc-counters").value), services: codes($("acc-services").value) });
      $("account-form").reset();
      toast(bi("saved", null, true));
      showAccounts();
    } catch (err) { toast(GH.errorLabel(err), true); }
  });
  $("pw-save").addEventListener("click", savePassword);
  document.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () =>
    $("password-modal").classList.add("hidden")));

  // -- tabs ------------------------------------------------------------------------------
  function showTab(name) {
    for (const b of document.querySelectorAll("[data-tab]")) {
      b.classList.toggle("active", b.dataset.tab === name);
      $("tab-" + b.dataset.tab).classList.toggle("hidden", b.dataset.tab !== name);
    }
    const load = { live: refreshLive, reports: showReport, config: showConfig,
      accounts: showAccounts }[name];
    Promise.resolve(load()).catch((err) => toast(GH.errorLabel(err), true));
    history.replaceState(null, "", "/web/dashboard#" + name);
  }
  document.querySelectorAll("[data-tab]").forEach((b) =>
    b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("report-form").addEventListener("submit", (ev) => { ev.preventDefault(); showReport(); });
  $("logout").addEventListener("click", GH.logout);

  GH.startClock($("clock"));
  GH.me().then(async (m) => {
    me = m;
    $("who").textContent = m.display_name;
    $("report-from").value = m.today;  // the hall's day, not the browser's
    $("report-to").value = m.today;
    const live = await refreshLive();
    stream = GH.events("/web/api/events?last_event_id=" + (live ? live.last_event_id : 0),
      () => { if (!$("tab-live").classList.contains("hidden")) refreshLiveSoon(); });
    setInterval(() => { if (!$("tab-live").classList.contains("hidden")) refreshLive(); }, 15000);
    const wanted = location.hash.slice(1);
    if (["reports", "config", "accounts"].includes(wanted)) showTab(wanted);
  }).catch((err) => toast(GH.errorLabel(err), true));
})();
