/*
 * The "today" page on a phone with a bad connection.
 *
 * "Done" is an htmx form. Every tap gets its own client_id and tap time, made here at the
 * moment of the tap, online or offline (the id the server wrote into the form is only for
 * pages without JavaScript): a page kept by the service worker, opened again offline,
 * never sends an id that an earlier tap used. If the request cannot leave the phone
 * (offline, or htmx:sendError), the tap goes into the offline queue under its id, one entry
 * per tap, and the card says only "saved on this phone, will sync". The queue is replayed
 * on page load, on the `online` event and by Background Sync where the browser has it.
 * A retry of the same tap sends the same id and content, which the server stores once.
 *
 * A tap the server refuses (409: its id is taken by another session; 404; 400/422) is not
 * saved, and the card says so and why, in words the page carries in the reader's language,
 * until the family dismisses it.
 */
(function () {
  "use strict";

  const root = document.querySelector("[data-today]");
  const queue = window.HPQueue;
  if (!root || !queue || !window.indexedDB) { return; }
  const userId = Number(root.dataset.userId);
  const childId = Number(root.dataset.childId);
  const live = document.getElementById("live-region");
  const words = live ? live.dataset : {};

  function announce(text) {
    if (!live || !text) { return; }
    live.textContent = "";
    // A fresh text node after a clear is what screen readers reliably announce.
    window.requestAnimationFrame(function () { live.textContent = text; });
  }

  function field(form, name) {
    const input = form.querySelector('input[name="' + name + '"]');
    return input ? input : { value: "" };
  }

  function cardOf(assignmentId) {
    return document.getElementById("card-" + assignmentId);
  }

  async function mine() {
    const entries = await queue.all();
    return entries.filter(function (entry) { return entry.user_id === userId; });
  }

  // "conflict" -> the page's data-why-conflict, in the reader's language.
  function whyOf(reason) {
    return words["why" + reason.charAt(0).toUpperCase() + reason.slice(1)] || words.msgRejected;
  }

  function byTapTime(a, b) { return a.occurred_at < b.occurred_at ? -1 : 1; }

  function tapTime(entry) {
    const when = new Date(entry.occurred_at);
    if (isNaN(when.getTime())) { return ""; }
    const options = { hour: "numeric", minute: "2-digit", timeZone: root.dataset.timezone };
    try {
      return when.toLocaleTimeString(document.documentElement.lang || undefined, options);
    } catch (unknownZone) {
      delete options.timeZone;
      return when.toLocaleTimeString(document.documentElement.lang || undefined, options);
    }
  }

  // The refused taps, one line each: when it was tapped and why it was not saved.
  function showRejected(box, entries) {
    if (!box) { return; }
    const list = box.querySelector("[data-rejected-list]");
    list.textContent = "";
    entries.sort(byTapTime).forEach(function (entry) {
      const item = document.createElement("li");
      const time = tapTime(entry);
      const when = time && words.tappedAt ? words.tappedAt.replace("{time}", time) + " " : "";
      item.textContent = when + whyOf(entry.rejected);
      list.appendChild(item);
    });
    box.hidden = entries.length === 0;
  }

  function setButton(card, pending) {
    const button = card.querySelector("[data-done-button]");
    const label = button && button.querySelector("[data-button-label]");
    if (!label) { return; }
    const expected = Number(card.dataset.expected || 0);
    const count = Number(card.dataset.count || 0) + pending;
    const complete = count >= expected;
    label.textContent = complete ? words.extraLabel : words.doneLabel;
    // Once the plan is covered the next tap is a further session: a secondary button, away
    // from a stray second tap.
    button.classList.toggle("button--primary", !complete);
    button.classList.toggle("button--big", !complete);
    button.classList.toggle("button--secondary", complete);
  }

  // The "kept on this phone" and "not saved" boxes: one copy in the page (a <template>),
  // put into a card the first time it needs them (Today has a page-weight budget).
  function boxesOf(card) {
    const template = document.getElementById("card-boxes");
    if (card.querySelector("[data-pending]") || !template) { return; }
    const boxes = template.content.cloneNode(true);
    const title = card.querySelector("h3");
    boxes.querySelectorAll("[data-card-title]").forEach(function (span) {
      span.textContent = title ? title.textContent : "";
    });
    card.insertBefore(boxes, card.querySelector(".done-form"));
  }

  function showCard(card, entries) {
    const assignmentId = Number(card.dataset.assignmentId);
    const own = entries.filter(function (entry) { return entry.assignment_id === assignmentId; });
    const pending = own.filter(function (entry) { return !entry.rejected; });
    if (own.length) { boxesOf(card); }
    const box = card.querySelector("[data-pending]");
    const count = card.querySelector("[data-pending-count]");
    const status = card.querySelector(".card-status");
    if (box) { box.hidden = pending.length === 0; }
    if (count) { count.textContent = pending.length > 1 ? "(" + pending.length + ")" : ""; }
    // The status the server wrote ("To do"…) does not know these taps: while they wait,
    // "saved on this phone, will sync" is the card's whole status.
    if (status) { status.hidden = pending.length > 0; }
    setButton(card, pending.length);
    showRejected(card.querySelector("[data-rejected]"), own.filter(function (entry) {
      return entry.rejected;
    }));
  }

  // Every card, and this child's refused taps whose activity has no card on the page.
  async function showQueue() {
    const entries = await mine();
    const cards = root.querySelectorAll("[data-card]");
    const shown = new Set();
    cards.forEach(function (card) {
      shown.add(Number(card.dataset.assignmentId));
      showCard(card, entries);
    });
    showRejected(document.querySelector("[data-rejected-elsewhere]"), entries.filter(function (e) {
      return e.rejected && e.child_id === childId && !shown.has(e.assignment_id);
    }));
  }

  function requestSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) { return registration.sync.register("hp-log-sync"); }
      return undefined;
    }).catch(function () { /* no Background Sync: the online event and page load cover it */ });
  }

  // The tap as the form carries it: its own id and time, written in at the moment of the tap.
  function tapOf(form) {
    return {
      client_id: field(form, "client_id").value,
      assignment_id: Number(field(form, "assignment_id").value),
      child_id: childId,
      occurred_at: field(form, "occurred_at").value || new Date().toISOString(),
      user_id: userId,
      queued_at: new Date().toISOString(),
    };
  }

  // The phone could not keep the tap (storage refused or full): it was not sent either.
  function notKept(form) {
    const problems = document.getElementById("request-problems");
    const text = problems && problems.dataset.offline;
    if (!text) { return; }
    const note = document.createElement("p");
    note.className = "error";
    note.setAttribute("role", "alert");
    note.setAttribute("data-request-problem", ""); // pwa.js removes it on the next request
    note.textContent = text;
    form.insertAdjacentElement("afterend", note);
  }

  async function keep(form, rejected) {
    form.dataset.busy = "1";
    try {
      const entry = tapOf(form);
      if (rejected) {
        entry.rejected = rejected;
        await queue.put(entry); // shown until dismissed, never sent again
      } else {
        await queue.add(entry);
        requestSync();
      }
      await showQueue();
      announce(rejected ? whyOf(rejected) : words.msgQueued);
    } catch (failed) {
      notKept(form);
    } finally {
      // Swallow the second half of a double tap.
      window.setTimeout(function () { delete form.dataset.busy; }, 700);
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    }
  }

  function isDoneForm(element) {
    return element instanceof HTMLFormElement && element.hasAttribute("data-offline-log");
  }

  // Capture phase: runs before htmx's own submit handler on the form, so the request htmx
  // sends carries this tap's id and time.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!isDoneForm(form)) { return; }
    if (form.dataset.busy === "1") {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    field(form, "client_id").value = queue.newId();
    field(form, "occurred_at").value = new Date().toISOString();
    if (!navigator.onLine) {
      event.preventDefault();
      event.stopImmediatePropagation();
      keep(form);
    }
  }, true);

  // preventDefault tells pwa.js's "not sent" message that the tap is kept on the phone.
  document.addEventListener("htmx:sendError", function (event) {
    const form = event.detail && event.detail.elt;
    if (isDoneForm(form)) { event.preventDefault(); keep(form); }
  });

  document.addEventListener("htmx:responseError", function (event) {
    const form = event.detail && event.detail.elt;
    const status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    if (!isDoneForm(form)) { return; }
    if (status >= 500) {
      // A gateway or server failure (502, 503…) is a connection problem to the family too.
      event.preventDefault();
      keep(form);
    } else if (status === 409) {
      // Not saved: say so on the card, with the reason, rather than "no longer there".
      event.preventDefault();
      keep(form, "conflict");
    }
  });

  function refreshCard(assignmentId) {
    const card = cardOf(assignmentId);
    if (card && window.htmx) {
      return window.htmx.ajax("GET", card.dataset.cardUrl, { target: card, swap: "outerHTML" });
    }
    return Promise.resolve();
  }

  function applyResult(saved, rejected) {
    const touched = new Set();
    saved.forEach(function (entry) { touched.add(entry.assignment_id); });
    touched.forEach(function (assignmentId) { refreshCard(assignmentId); });
    if (rejected.length) { showQueue(); }
    if (saved.length) { announce(words.msgSynced); }
    if (rejected.length) { announce(words.msgRejected); }
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

  document.addEventListener("click", async function (event) {
    const target = event.target instanceof Element ? event.target : null;
    // Undo the latest tap of this card that is still only on this phone.
    const undo = target && target.closest("[data-pending-undo]");
    if (undo) {
      const assignmentId = Number(undo.closest("[data-card]").dataset.assignmentId);
      const pending = (await mine()).filter(function (entry) {
        return entry.assignment_id === assignmentId && !entry.rejected;
      }).sort(byTapTime);
      if (pending.length) { await queue.remove(pending[pending.length - 1].client_id); }
      await showQueue();
      return;
    }
    // The family has read why these taps were not saved: they leave the phone.
    const dismiss = target && target.closest("[data-rejected-dismiss]");
    if (dismiss) {
      const card = dismiss.closest("[data-card]");
      const assignmentId = card ? Number(card.dataset.assignmentId) : null;
      const shown = new Set(Array.from(root.querySelectorAll("[data-card]"), function (c) {
        return Number(c.dataset.assignmentId);
      }));
      const seen = (await mine()).filter(function (entry) {
        if (!entry.rejected) { return false; }
        return card ? entry.assignment_id === assignmentId :
          entry.child_id === childId && !shown.has(entry.assignment_id);
      });
      for (const entry of seen) { await queue.remove(entry.client_id); }
      await showQueue();
    }
  });

  // Cards swapped in by htmx (after Done, or a refresh) show what is still on the phone.
  document.addEventListener("htmx:load", function (event) {
    const element = event.detail && event.detail.elt;
    if (element instanceof Element && element.matches("[data-card]")) {
      mine().then(function (entries) { showCard(element, entries); });
    }
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      const data = event.data || {};
      if (data.type === "hp-synced") { applyResult(data.saved || [], data.rejected || []); }
    });
  }

  window.addEventListener("online", sync);
  showQueue();
  sync();
})();
