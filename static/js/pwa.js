/*
 * On every page: install the service worker, show the offline banner while offline, say so
 * beside a form whose htmx request failed, and on logout empty what this phone keeps (the
 * offline queue and the kept "today" pages).
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

  // htmx leaves the page as it was when a request fails: without a word, the tap would look
  // ignored. The words come from the page (#request-problems), in the reader's language.
  function problemKind(status) {
    if (!status) { return "offline"; }
    if (status === 429) { return "busy"; }
    if (status === 400 || status === 401 || status === 403) { return "stale"; }
    if (status === 404 || status === 409 || status === 410) { return "gone"; }
    return "failed";
  }

  function problemNote(element, create) {
    const form = element.closest("form") || element;
    const next = form.nextElementSibling;
    if (next && next.hasAttribute("data-request-problem")) { return next; }
    if (!create) { return null; }
    const note = document.createElement("p");
    note.className = "error";
    note.setAttribute("role", "alert");
    note.setAttribute("data-request-problem", "");
    form.insertAdjacentElement("afterend", note);
    return note;
  }

  function showProblem(event, status) {
    const element = event.detail && event.detail.elt;
    const words = document.getElementById("request-problems");
    // A listener on document that kept the request (today's offline queue) prevented this.
    if (event.defaultPrevented || !words || !(element instanceof Element)) { return; }
    problemNote(element, true).textContent = words.dataset[problemKind(status)];
  }

  // On window: runs after the listeners on document, whatever the order scripts load in.
  window.addEventListener("htmx:sendError", function (event) { showProblem(event, 0); });
  window.addEventListener("htmx:responseError", function (event) {
    showProblem(event, event.detail && event.detail.xhr ? event.detail.xhr.status : 0);
  });
  window.addEventListener("htmx:beforeRequest", function (event) {
    const element = event.detail && event.detail.elt;
    const note = element instanceof Element ? problemNote(element, false) : null;
    if (note) { note.remove(); }
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
