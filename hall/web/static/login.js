"use strict";
// The password goes in a JSON body (never in the URL); the server answers with the
// session cookie. "next" is only ever a path on this server.
document.getElementById("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.getElementById("login-error");
  out.replaceChildren();
  try {
    const me = await GH.api("POST", "/web/api/login", {
      username: document.getElementById("username").value.trim(),
      password: document.getElementById("password").value,
    });
    let next = GH.param("next") || "";
    if (!/^\/(web|t)\/[\w\/\-?=&.]*$/.test(next)) {
      next = { admin: "/web/dashboard", supervisor: "/web/cases" }[me.role] || "/web/counter";
    }
    location.href = next;
  } catch (err) {
    if (err.code === "login_locked" && err.data.locked_until) {
      // until when, in the hall's time as the server says it (HH:MM of its ISO time)
      out.replaceChildren(GH.bi("login_locked_until", { time: err.data.locked_until.slice(11, 16) }));
    } else {
      const key = { login_locked: "login_locked", login_throttled: "login_throttled",
        login_failed: "login_failed" }[err.code] || (err.status === 401 ? "login_failed" : null);
      out.replaceChildren(key ? GH.bi(key) : GH.errorLabel(err));
    }
    document.getElementById("password").value = "";
    document.getElementById("password").focus();
  }
});
