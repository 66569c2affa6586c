/*
 * On every page: install the service worker, show the offline banner while offline, and on
 * logout empty what this phone keeps (the offline queue and the kept "today" pages).
 */
(function () {
  "use strict";

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
      // No worker (private mode, old browser): the site still works online.
    });
  }

  function showOfflineBanner() {
    document.querySelectorAll("[data-offline-banner]").forEach(function (banner) {
      banner.hidden = navigator.onLine;
    });
  }
  window.addEventListener("online", showOfflineBanner);
  window.addEventListener("offline", showOfflineBanner);
  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.onLine) { showOfflineBanner(); }
  });

  async function forgetThisPhone() {
    const queue = window.HPQueue;
    if (queue) {
      if (navigator.onLine) {
        // Send what is waiting while the session still exists; never hold the logout for long.
        await Promise.race([
          queue.flush().catch(function () {}),
          new Promise(function (resolve) { setTimeout(resolve, 3000); }),
        ]);
      }
      await queue.clear().catch(function () {});
    }
    if (window.caches) {
      const names = await caches.keys();
      await Promise.all(names.filter(function (name) {
        return name.indexOf("hp-pages") === 0;
      }).map(function (name) { return caches.delete(name); }));
    }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-clear-offline")) { return; }
    if (form.dataset.cleared === "1") { return; }
    event.preventDefault();
    form.dataset.cleared = "1";
    forgetThisPhone().finally(function () { form.submit(); });
  });
})();
