"use strict";
// Booking pages (/book/): the forms work without this script; it adds the live checks an
// elderly citizen needs while typing — the ID number's GB 11643 check digit and length,
// the mobile number's form — shown in words under the field (no pop-ups), and the button
// that shows the hidden ID number. Texts come from the page's booking catalogue.
(() => {
  const texts = JSON.parse(document.getElementById("i18n").textContent || "{}");
  const $ = (id) => document.getElementById(id);

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  }

  // Chinese, then English, as the server's texts are shown.
  function say(node, key, vars, cls) {
    const entry = texts[key] || { zh: key, en: "" };
    const zhSpan = document.createElement("span");
    zhSpan.className = "zh";
    zhSpan.textContent = fill(entry.zh, vars);
    const parts = [zhSpan];
    if (entry.en && entry.en !== entry.zh) {
      const enSpan = document.createElement("span");
      enSpan.className = "en";
      enSpan.textContent = fill(entry.en, vars);
      parts.push(enSpan);
    }
    node.replaceChildren(...parts);
    node.className = "check" + (cls ? " " + cls : "");
  }

  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const CHECK = "10X98765432";

  // "ok", or the text key of what is wrong, and how many characters are missing.
  function idState(raw) {
    const v = raw.replace(/\s+/g, "").toUpperCase();
    if (!/^[0-9]*X?$/.test(v) || (v.includes("X") && v.length !== 18)) return ["id_bad_chars", 0];
    if (v.length < 18) return ["id_too_short", 18 - v.length];
    if (v.length > 18) return ["id_bad_chars", 0];
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(v[i]) * WEIGHTS[i];
    return CHECK[sum % 11] === v[17] ? ["id_ok", 0] : ["id_bad_check", 0];
  }

  const id = $("id_number");
  const idCheck = $("id-check");
  if (id && idCheck) {
    id.addEventListener("input", () => {
      if (!id.value) { say(idCheck, "id_hint"); return; }
      const [key, n] = idState(id.value);
      say(idCheck, key, { n }, key === "id_ok" ? "ok" : key === "id_too_short" ? "" : "bad");
    });
  }
  const toggle = $("show-id");
  if (toggle && id) {
    toggle.addEventListener("click", () => {
      const shown = id.type === "text";
      id.type = shown ? "password" : "text";
      toggle.setAttribute("aria-pressed", shown ? "false" : "true");
    });
  }

  const phone = $("phone");
  const phoneCheck = $("phone-check");
  if (phone && phoneCheck) {
    phone.addEventListener("input", () => {
      const digits = phone.value.replace(/[\s()-]/g, "").replace(/^\+?86(?=1\d{10}$)/, "");
      if (!digits) { phoneCheck.replaceChildren(); return; }
      const ok = /^1[3-9]\d{9}$/.test(digits);
      if (ok || digits.length >= 11) say(phoneCheck, ok ? "phone_ok" : "phone_bad", null, ok ? "ok" : "bad");
      else phoneCheck.replaceChildren();
    });
  }

  // 远程取号: the browser's position goes with the form (asked for when the button is
  // pressed, never before); without it the hall refuses, and the page says why.
  const remote = $("remote-form");
  if (remote && remote.dataset.locate === "yes") {
    const state = $("locate-state");
    remote.addEventListener("submit", (ev) => {
      if ($("lat").value) return;  // the position is in: send
      ev.preventDefault();
      if (!navigator.geolocation) { say(state, "remote_no_location", null, "bad"); return; }
      say(state, "remote_locating");
      navigator.geolocation.getCurrentPosition((pos) => {
        $("lat").value = String(pos.coords.latitude);
        $("lon").value = String(pos.coords.longitude);
        HTMLFormElement.prototype.submit.call(remote);  // a control named "submit" shadows it
      }, () => say(state, "remote_no_location", null, "bad"),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  const code = $("code");
  if (code && code.tagName === "INPUT") {
    code.addEventListener("input", () => { code.value = code.value.toUpperCase(); });
  }
})();
