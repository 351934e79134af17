// Shared helpers of the govhall pages: texts (Chinese first, English second), JSON calls
// with the session's CSRF token, the live event stream, and safe DOM building (every
// text goes in through textContent, never innerHTML).
"use strict";

const GH = (() => {
  const catalogue = JSON.parse(document.getElementById("i18n").textContent);
  let csrf = "";

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  }
  function zh(key, vars) { return fill((catalogue[key] || { zh: key }).zh, vars); }
  function en(key, vars) { const e = catalogue[key]; return e ? fill(e.en || e.zh, vars) : ""; }

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
  function errorLabel(err) {
    const key = "err_" + (err.code || "");
    if (catalogue[key]) return bi(key);
    return biText(err.message || String(err), "");
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

  function startClock(node) {
    const tick = () => {
      node.textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    };
    tick();
    setInterval(tick, 1000);
  }

  async function logout() {
    try { await api("POST", "/web/api/logout"); } finally { location.href = "/web/login"; }
  }

  function param(name) { return new URLSearchParams(location.search).get(name); }

  return { zh, en, el, bi, biText, toast, api, me, events, debounce, duration, startClock,
    logout, param, errorLabel, ApiError };
})();
