// Shared helpers of the govhall pages: texts (Chinese first, English second), JSON calls
// with the session's CSRF token, the live event stream, and safe DOM building (every
// text goes in through textContent, never innerHTML).
"use strict";

const GH = (() => {
  const catalogue = JSON.parse(document.getElementById("i18n").textContent);
  // The hall's time zone (<body data-tz>, from its config): every clock shows hall time,
  // whatever the browser's machine is set to.
  const timeZone = document.body.dataset.tz || undefined;
  let csrf = "";

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  }
  function zh(key, vars) { return fill((catalogue[key] || { zh: key }).zh, vars); }
  function en(key, vars) { const e = catalogue[key]; return e ? fill(e.en || e.zh, vars) : ""; }
  function has(key) { return Object.prototype.hasOwnProperty.call(catalogue, key); }

  // element builder: el("div", {class: "x"}, child, "text", …)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  // Bilingual label: Chinese, then English smaller underneath (or inline).
  function bi(key, vars, inline) {
    const z = zh(key, vars), e = en(key, vars);
    const span = el("span", { class: inline ? "inline" : null }, el("span", { class: "zh" }, z));
    if (e && e !== z) span.append(el("span", { class: "en" }, e));
    return span;
  }
  function biText(zhText, enText) {
    const span = el("span", {}, el("span", { class: "zh" }, zhText || ""));
    if (enText && enText !== zhText) span.append(el("span", { class: "en" }, enText));
    return span;
  }
  // The words for a value the server sends as a code: bi(prefix + value) when the
  // catalogue has it, else the value itself (free text a kiosk or a config file wrote).
  function words(prefix, value, inline) {
    return has(prefix + value) ? bi(prefix + value, null, inline) : biText(String(value), "");
  }
  // A device part and its state in words: "读卡器 故障" (inline English after it).
  function partLabel(part, state) {
    const z = (has("part_" + part) ? zh("part_" + part) : part) + " " +
      (has("part_state_" + state) ? zh("part_state_" + state) : state);
    const e = (has("part_" + part) ? en("part_" + part) : part) + " " +
      (has("part_state_" + state) ? en("part_state_" + state) : state);
    return el("span", { class: "inline" }, el("span", { class: "zh" }, z),
      el("span", { class: "en" }, e));
  }
  // Where a help request came from: "自助机 K1 · 一楼大厅东侧", and why, in words.
  function helpWhere(h) {
    return zh("help_kiosk", { kiosk: h.kiosk }) + (h.location ? " · " + h.location : "");
  }
  function helpReason(h) { return words("help_reason_", h.reason, true); }

  let toastTimer = null;
  function toast(content, isError) {
    let box = document.getElementById("toast");
    if (!box) { box = el("div", { id: "toast", class: "toast" }); document.body.append(box); }
    box.className = "toast" + (isError ? " error" : "");
    box.replaceChildren(content instanceof Node ? content : document.createTextNode(content));
    box.classList.remove("hidden");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => box.classList.add("hidden"), isError ? 6000 : 2500);
  }

  class ApiError extends Error {
    constructor(status, code, message, data) {
      super(message); this.status = status; this.code = code; this.data = data || {};
    }
  }
  // What staff read when something is refused: the page's own text for the code
  // (err_<code>), else the hall's words for it (every error body has "zh" and "en"), else
  // a general line; the technical message only in the tooltip, for a technician.
  function errorLabel(err) {
    const key = "err_" + ((err && err.code) || "");
    let label;
    if (has(key)) label = bi(key);
    else if (err && err.code === "network") label = bi("network_error");
    else if (err && err.data && err.data.zh) label = biText(err.data.zh, err.data.en);
    else label = bi("error_generic");
    if (err && err.message) label.title = err.message;
    return label;
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") { headers["X-CSRF-Token"] = csrf; }
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(path, { method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, "network", zh("network_error"));
    }
    if (resp.status === 401 && !path.endsWith("/login")) {
      location.href = "/web/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new ApiError(401, "login_required", zh("session_expired"));
    }
    if (resp.status === 204) return null;
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new ApiError(resp.status, data.error, data.message || resp.statusText, data);
    return data;
  }

  async function me() {
    const m = await api("GET", "/web/api/me");
    csrf = m.csrf;
    return m;
  }

  // EventSource resends Last-Event-ID itself when it reconnects.
  function events(url, onEvent, onState) {
    const src = new EventSource(url);
    const types = ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.started",
      "ticket.finished", "ticket.no_show", "ticket.parked", "ticket.transferred",
      "ticket.requeued", "ticket.evaluated", "counter.opened", "counter.paused",
      "counter.resumed", "counter.closed", "help.requested", "help.resolved", "device.health",
      "changed"];
    for (const t of types) {
      src.addEventListener(t, (ev) => onEvent(t, JSON.parse(ev.data || "{}"), ev.lastEventId));
    }
    src.onopen = () => onState && onState(true);
    src.onerror = () => onState && onState(false);
    return src;
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.round(seconds);
    if (s < 60) return s + zh("seconds");
    return Math.round(s / 60) + zh("minutes");
  }

  // Now in the hall's time zone: "09:30:05" (seconds: false gives "09:30").
  function clockTime(seconds) {
    const opts = { hour12: false, timeZone, hour: "2-digit", minute: "2-digit" };
    if (seconds !== false) opts.second = "2-digit";
    return new Date().toLocaleTimeString("zh-CN", opts);
  }
  function startClock(node) {
    const tick = () => { node.textContent = clockTime(); };
    tick();
    setInterval(tick, 1000);
  }

  async function logout() {
    try { await api("POST", "/web/api/logout"); } finally { location.href = "/web/login"; }
  }

  function param(name) { return new URLSearchParams(location.search).get(name); }

  return { zh, en, has, el, bi, biText, words, partLabel, helpWhere, helpReason, toast, api,
    me, events, debounce, duration, clockTime, startClock, logout, param, errorLabel, ApiError,
    timeZone };
})();
