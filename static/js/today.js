/*
 * The "today" page on a phone with a bad connection.
 *
 * "Done" is an htmx form carrying a client_id made by the server for that card. The first
 * tap stamps the tap time into the form; if the request cannot leave the phone (offline, or
 * htmx:sendError), the log goes into the offline queue under the same client_id and the card
 * says "saved on this phone, will sync". The queue is replayed on page load, on the `online`
 * event and by Background Sync where the browser has it. Replays and double taps cannot
 * duplicate a log: the server stores one log per client_id.
 */
(function () {
  "use strict";

  const root = document.querySelector("[data-today]");
  const queue = window.HPQueue;
  if (!root || !queue || !window.indexedDB) { return; }
  const userId = Number(root.dataset.userId);
  const live = document.getElementById("live-region");

  function announce(key) {
    if (!live || !live.dataset[key]) { return; }
    live.textContent = "";
    // A fresh text node after a clear is what screen readers reliably announce.
    window.requestAnimationFrame(function () { live.textContent = live.dataset[key]; });
  }

  function field(form, name) {
    const input = form.querySelector('input[name="' + name + '"]');
    return input ? input : { value: "" };
  }

  function cardOf(assignmentId) {
    return document.getElementById("card-" + assignmentId);
  }

  async function pendingFor(assignmentId) {
    const entries = await queue.all();
    return entries.filter(function (entry) {
      return entry.user_id === userId && entry.assignment_id === assignmentId;
    });
  }

  async function showPending(card) {
    if (!card) { return; }
    const assignmentId = Number(card.dataset.assignmentId);
    const entries = await pendingFor(assignmentId);
    const box = card.querySelector("[data-pending]");
    const count = card.querySelector("[data-pending-count]");
    const button = card.querySelector("[data-done-button]");
    if (box) { box.hidden = entries.length === 0; }
    if (count) { count.textContent = entries.length > 1 ? "(" + entries.length + ")" : ""; }
    if (button && entries.length) {
      // The next tap is a further session: a secondary button, away from a stray second tap.
      const hidden = button.querySelector(".visually-hidden");
      button.textContent = button.dataset.extraLabel + " ";
      if (hidden) { button.appendChild(hidden); }
      button.classList.remove("primary", "big");
      button.classList.add("secondary");
    }
  }

  function requestSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) { return registration.sync.register("hp-log-sync"); }
      return undefined;
    }).catch(function () { /* no Background Sync: the online event and page load cover it */ });
  }

  async function queueFrom(form) {
    form.dataset.busy = "1";
    try {
      const clientId = field(form, "client_id").value;
      await queue.put({
        client_id: clientId,
        assignment_id: Number(form.dataset.assignmentId),
        child_id: Number(form.dataset.childId),
        occurred_at: field(form, "occurred_at").value || new Date().toISOString(),
        user_id: userId,
        queued_at: new Date().toISOString(),
      });
      // The queued entry keeps its id; another tap is another session with a new one.
      field(form, "client_id").value = queue.newId();
      field(form, "occurred_at").value = "";
      await showPending(form.closest("[data-card]"));
      announce("msgQueued");
      requestSync();
    } finally {
      // Swallow the second half of a double tap.
      window.setTimeout(function () { delete form.dataset.busy; }, 700);
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    }
  }

  function isDoneForm(element) {
    return element instanceof HTMLFormElement && element.hasAttribute("data-offline-log");
  }

  // Capture phase: runs before htmx's own submit handler on the form.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!isDoneForm(form)) { return; }
    if (form.dataset.busy === "1") {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    const when = field(form, "occurred_at");
    if (!when.value) { when.value = new Date().toISOString(); }
    if (!navigator.onLine) {
      event.preventDefault();
      event.stopImmediatePropagation();
      queueFrom(form);
    }
  }, true);

  // preventDefault tells pwa.js's "not sent" message that the tap is kept on the phone.
  document.addEventListener("htmx:sendError", function (event) {
    const form = event.detail && event.detail.elt;
    if (isDoneForm(form)) { event.preventDefault(); queueFrom(form); }
  });

  // A gateway or server failure (502, 503…) is a connection problem to the family too.
  document.addEventListener("htmx:responseError", function (event) {
    const form = event.detail && event.detail.elt;
    const status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (isDoneForm(form) && status >= 500) { event.preventDefault(); queueFrom(form); }
  });

  function refreshCard(assignmentId) {
    const card = cardOf(assignmentId);
    if (card && window.htmx) {
      return window.htmx.ajax("GET", card.dataset.cardUrl, { target: card, swap: "outerHTML" });
    }
    return Promise.resolve();
  }

  function showRejected(assignmentId) {
    const card = cardOf(assignmentId);
    const message = card && card.querySelector("[data-rejected]");
    if (message) { message.hidden = false; }
  }

  function applyResult(saved, rejected) {
    const touched = new Set();
    saved.forEach(function (entry) { touched.add(entry.assignment_id); });
    touched.forEach(function (assignmentId) { refreshCard(assignmentId); });
    rejected.forEach(function (entry) { showRejected(entry.assignment_id); });
    if (saved.length) { announce("msgSynced"); }
    if (rejected.length) { announce("msgRejected"); }
  }

  async function sync() {
    if (!navigator.onLine) { return; }
    try {
      const result = await queue.flush();
      applyResult(result.saved, result.rejected);
    } catch (error) {
      // IndexedDB or the network failed; the queue is untouched and tried again later.
    }
  }

  // Undo a session that is still only on this phone.
  document.addEventListener("click", async function (event) {
    const button = event.target instanceof Element && event.target.closest("[data-pending-undo]");
    if (!button) { return; }
    const card = button.closest("[data-card]");
    const entries = await pendingFor(Number(card.dataset.assignmentId));
    if (entries.length) {
      entries.sort(function (a, b) { return a.queued_at < b.queued_at ? -1 : 1; });
      await queue.remove(entries[entries.length - 1].client_id);
    }
    await showPending(card);
  });

  // Cards swapped in by htmx (after Done, or a refresh) show what is still waiting.
  document.addEventListener("htmx:load", function (event) {
    const element = event.detail && event.detail.elt;
    if (element instanceof Element && element.matches("[data-card]")) { showPending(element); }
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      const data = event.data || {};
      if (data.type === "hp-synced") { applyResult(data.saved || [], data.rejected || []); }
    });
  }

  window.addEventListener("online", sync);
  root.querySelectorAll("[data-card]").forEach(showPending);
  sync();
})();
