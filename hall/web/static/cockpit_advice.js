"use strict";
// 建议增开窗口 (issue 22) on the dashboard and the counter page: the services whose queue is
// heading past its waiting-time promise, with how many counters to open and which. The
// words come from the server (zh and en); on the counter page only the services of the
// counter this staff member works at (the counter page announces it with "gh:counter").
(() => {
  const box = document.getElementById("cockpit-advice");
  if (!box) return;
  const list = document.getElementById("cockpit-advice-list");
  const onCounterPage = location.pathname.startsWith("/web/counter");
  let counterId = onCounterPage ? (GH.param("c") || localStorage.getItem("govhall.counter")) : null;

  async function refresh() {
    if (onCounterPage && !counterId) return;
    const q = counterId ? "?counter=" + encodeURIComponent(counterId) : "";
    let res;
    try { res = await GH.api("GET", "/web/api/cockpit/advice" + q); } catch (e) { return; }
    const items = (res && res.advice) || [];
    list.replaceChildren(...items.map((a) =>
      GH.el("div", { class: "advice-item", "data-service": a.service }, GH.biText(a.zh, a.en))));
    box.classList.toggle("hidden", items.length === 0);
  }
  // the dashboard also shows today's promise kept, per service, live
  const promise = document.getElementById("cockpit-promise");
  async function refreshPromise() {
    let res;
    try { res = await GH.api("GET", "/web/api/cockpit/today"); } catch (e) { return; }
    const a = res.attainment;
    const share = document.getElementById("cockpit-promise-share");
    share.textContent = a.share === null ? "—" : (100 * a.share).toFixed(1) + "%";
    const rows = Object.entries(a.by_service).filter(([, s]) => s.share !== null).map(([code, s]) =>
      GH.el("span", { class: "promise-chip" + (s.share < s.level ? " late" : ""), "data-service": code },
        s.name + " " + (100 * s.share).toFixed(0) + "%"));
    document.getElementById("cockpit-promise-services").replaceChildren(...rows);
    promise.classList.remove("hidden");
  }
  if (!onCounterPage && promise) {
    refreshPromise();
    setInterval(refreshPromise, 20000);
  }
  document.addEventListener("gh:counter", (ev) => {
    if (ev.detail && ev.detail.counterId !== counterId) { counterId = ev.detail.counterId; }
    refresh();
  });
  refresh();
  setInterval(refresh, 20000);
})();
