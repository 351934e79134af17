"use strict";
// 无声叫号 on the citizen's ticket page (/t/<token>, issue 21). ticket.js keeps the page's
// number, people ahead and state current (live); this script watches what it shows and
// alerts the citizen once when 3 or fewer are ahead and once when called: on the page, by
// vibration and a short tone, and — after the one button is pressed — by a system
// notification while the page is open. The family share is this same link as a QR code.
(() => {
  const box = document.getElementById("companion");
  if (!box) return;
  const $ = (id) => document.getElementById(id);
  const token = location.pathname.split("/")[2];
  const SOON = 3;
  let texts = {};
  let audio = null;
  let told = { soon: false, called: false };

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  }
  function words(key, vars) {
    const e = texts[key] || { zh: key, en: "" };
    return { zh: fill(e.zh, vars), en: fill(e.en || "", vars) };
  }
  function show(node, key, vars) {
    const w = words(key, vars);
    const zh = document.createElement("span");
    zh.className = "zh";
    zh.textContent = w.zh;
    const en = document.createElement("span");
    en.className = "en";
    en.textContent = w.en;
    node.replaceChildren(zh, en);
    return w;
  }

  function tone() {
    if (!audio) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.25, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.8);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.8);
  }

  function alertNow(key, vars) {
    const node = $("c-alert");
    const w = show(node, key, vars);
    node.hidden = false;
    node.dataset.kind = key;
    if (navigator.vibrate) navigator.vibrate([300, 120, 300]);
    tone();
    if ("Notification" in window && Notification.permission === "granted") {
      try { new Notification(w.zh, { body: w.en, tag: "govhall-" + token }); } catch (e) { /* page only */ }
    }
  }

  function check() {
    const state = $("t-state");
    const ahead = $("t-ahead");
    if (!state || !ahead) return;
    if (state.classList.contains("called") && !told.called) {
      told.called = true;
      const zhText = (state.querySelector(".zh") || state).textContent || "";
      const enText = (state.querySelector(".en") || state).textContent || "";
      const m = zhText.match(/请到\s*(.+?)\s*办理/);
      const e = enText.match(/go to\s+(.+)$/i);
      if (m) alertNow("notify_called", { counter: m[1], counter_en: e ? e[1] : m[1] });
      else alertNow("notify_called_plain");
      return;
    }
    const n = parseInt(ahead.textContent, 10);
    if (!state.classList.contains("called") && !Number.isNaN(n) && n <= SOON && !told.soon) {
      told.soon = true;
      alertNow("notify_soon", { n });
    }
  }

  async function enable() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx && !audio) audio = new Ctx();
      if (audio && audio.state === "suspended") await audio.resume();
    } catch (e) { audio = null; }
    let granted = false;
    if ("Notification" in window) {
      try { granted = (await Notification.requestPermission()) === "granted"; } catch (e) { granted = false; }
    }
    show($("c-notify-state"), granted ? "notify_on" : "notify_blocked");
    $("c-notify").hidden = true;
  }

  async function start() {
    try {
      const resp = await fetch("/book/companion/texts", { cache: "force-cache" });
      texts = await resp.json();
    } catch (e) { return; }
    show($("c-notify"), "notify_enable");
    $("c-notify").addEventListener("click", enable);
    show($("c-share-title"), "share_title");
    show($("c-share-hint"), "share_hint");
    $("c-share-qr").src = "/t/" + encodeURIComponent(token) + "/share.png";
    box.hidden = false;
    const watch = new MutationObserver(check);
    for (const id of ["t-state", "t-ahead"]) {
      const node = $(id);
      if (node) watch.observe(node, { childList: true, characterData: true, subtree: true, attributes: true });
    }
    check();
  }
  start();
})();
