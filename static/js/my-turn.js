/*
 * "My turn", the child's screen. Everything here is an extra: the pages work without it
 * (steps are walked with links and CSS :target, "I did it!" is a plain form, "Grown-ups"
 * opens the sum page at once).
 *
 *  - "Read aloud": the step's words through the browser's speech synthesis, in the
 *    language of the text (the family's); the button stays hidden without speechSynthesis.
 *  - "I did it!": the caregiver's Done. Each tap gets its own client_id and tap time, made
 *    here; online it is posted to the same address as Today's Done (answered like an htmx
 *    request: a card fragment, no redirect); offline, or when the request cannot leave the
 *    phone, it goes into the offline queue (offline-queue.js, window.HPQueue) exactly as
 *    Today's taps do, and is replayed once online. Then a short celebration and a star in
 *    the jar (no motion under prefers-reduced-motion: the CSS says so).
 *  - The cards and the jar count the taps still waiting in the queue, so a page opened
 *    offline from the service worker shows them done. The queue is sent on page load and
 *    on the `online` event; when it sent something, the cards page reloads from the server.
 *  - "Grown-ups": held for two seconds before the sum page opens (a tap does nothing);
 *    offline it says that leaving needs a connection instead.
 * Words shown come from the page (data-* attributes), in the page's language.
 */
(function () {
  "use strict";

  const root = document.querySelector("[data-my-turn]");
  if (!root) { return; }
  const queue = window.HPQueue;
  const userId = Number(root.dataset.userId);
  const childId = Number(root.dataset.childId);
  const HOLD_MS = 2000;

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // --- Read aloud ----------------------------------------------------------------------

  function setUpReading() {
    if (!("speechSynthesis" in window) || typeof window.SpeechSynthesisUtterance !== "function") {
      return;
    }
    const synth = window.speechSynthesis;
    function voiceFor(lang) {
      const voices = synth.getVoices();
      const base = lang.toLowerCase().split("-")[0];
      return voices.find(function (v) { return v.lang.toLowerCase() === lang.toLowerCase(); }) ||
        voices.find(function (v) { return v.lang.toLowerCase().split(/[-_]/)[0] === base; }) || null;
    }
    document.querySelectorAll("[data-say]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        const scope = button.closest("[data-say-scope]");
        const words = scope && scope.querySelector("[data-say-text]");
        if (!words) { return; }
        synth.cancel();
        const utterance = new window.SpeechSynthesisUtterance(words.textContent.trim());
        utterance.lang = button.dataset.sayLang || document.documentElement.lang || "en";
        utterance.rate = 0.9;
        const voice = voiceFor(utterance.lang);
        if (voice) { utterance.voice = voice; }
        synth.speak(utterance);
      });
    });
    window.addEventListener("hashchange", function () { synth.cancel(); });
  }

  // A new step: its heading takes the focus, so a screen reader starts there.
  function focusStep() {
    const id = decodeURIComponent(window.location.hash.slice(1));
    const step = id ? document.getElementById(id) : null;
    const heading = step && step.matches(".mt-step") ? step.querySelector("h2[tabindex]") : null;
    if (heading) { heading.focus({ preventScroll: true }); }
  }

  // --- The queue, as this child's pages see it ----------------------------------------

  async function waiting() {
    if (!queue || !window.indexedDB) { return []; }
    try {
      const entries = await queue.all();
      return entries.filter(function (entry) {
        return entry.user_id === userId && entry.child_id === childId && !entry.rejected;
      });
    } catch (unavailable) {
      return [];
    }
  }

  function requestSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.sync) { return registration.sync.register("hp-log-sync"); }
      return undefined;
    }).catch(function () { /* no Background Sync: page load and the online event cover it */ });
  }

  // --- The star jar --------------------------------------------------------------------

  function jarCount(jar, stars) {
    const needed = Number(jar.dataset.needed);
    const shown = Math.min(stars, needed);
    jar.querySelectorAll(".mt-star").forEach(function (star, index) {
      const filled = index < shown;
      if (filled && !star.classList.contains("is-filled")) { star.classList.add("is-new"); }
      star.classList.toggle("is-filled", filled);
    });
    const count = jar.querySelector("[data-jar-count]");
    if (count && count.dataset.count) {
      count.textContent = count.dataset.count.replace(
        "{stars}", shown.toLocaleString(document.documentElement.lang || undefined)
      );
    }
    const full = jar.querySelector("[data-jar-full]");
    if (full) { full.hidden = shown < needed; }
    jar.classList.toggle("is-full", shown >= needed);
  }

  // Taps still on the phone that count for this jar (tapped after it was started).
  function starsWaiting(jar, entries) {
    const started = Date.parse(jar.dataset.started || "");
    return entries.filter(function (entry) {
      return isNaN(started) || Date.parse(entry.queued_at || entry.occurred_at) >= started;
    }).length;
  }

  // --- The cards page ------------------------------------------------------------------

  function showWaiting(entries) {
    const home = document.querySelector("[data-my-turn-home]");
    if (!home) { return; }
    const doneIds = new Set();
    home.querySelectorAll("[data-card]").forEach(function (card) {
      const id = Number(card.dataset.assignmentId);
      const pending = entries.filter(function (e) { return e.assignment_id === id; }).length;
      const complete = Number(card.dataset.count) + pending >= Number(card.dataset.expected);
      if (complete) { doneIds.add(id); }
      card.classList.toggle("is-done", complete);
      const check = card.querySelector("[data-card-done]");
      if (check) { check.hidden = !complete; }
      const count = card.querySelector("[data-card-count]");
      if (count && pending) { count.hidden = true; }
    });
    const strip = home.querySelector("[data-strip]");
    let left = 0;
    if (strip) {
      strip.querySelectorAll("[data-strip-item]").forEach(function (item) {
        const still = !doneIds.has(Number(item.dataset.assignmentId));
        item.hidden = !still || left >= 2;
        if (still && left < 2) {
          item.querySelector("[data-strip-word]").textContent =
            left === 0 ? strip.dataset.first : strip.dataset.then;
        }
        if (still) { left += 1; }
      });
    }
    const allDone = home.querySelector("[data-all-done]");
    if (allDone && strip) { allDone.hidden = left > 0; }
    const jar = home.querySelector("[data-jar]");
    if (jar) { jarCount(jar, Number(jar.dataset.stars) + starsWaiting(jar, entries)); }
  }

  async function sync() {
    if (!queue || !navigator.onLine) { return; }
    let result;
    try {
      result = await queue.flush();
    } catch (failed) {
      return; // IndexedDB or the network failed; the queue is tried again later
    }
    if (result.saved.length && document.querySelector("[data-my-turn-home]")) {
      window.location.reload(); // the server's page now has them
    }
  }

  // --- "I did it!" ---------------------------------------------------------------------

  function announce(form, text) {
    const live = form.parentElement.querySelector("[data-live]");
    if (!live) { return; }
    live.textContent = "";
    window.requestAnimationFrame(function () { live.textContent = text; });
  }

  // Not saved (refused, or the phone could not keep it): said on the page, and the button
  // stays for another try.
  function notSaved(form) {
    const problem = form.parentElement.querySelector("[data-did-it-problem]");
    if (problem) {
      problem.textContent = form.dataset.notSaved;
      problem.hidden = false;
    }
    announce(form, form.dataset.notSaved);
  }

  function celebrate(form, kept) {
    const finish = form.parentElement;
    const party = finish.querySelector("[data-celebrate]");
    const jar = party ? party.querySelector("[data-jar]") : null;
    let words = form.dataset.didItWords;
    if (jar) {
      const before = Number(jar.dataset.stars);
      const needed = Number(jar.dataset.needed);
      if (before < needed) { words += " " + form.dataset.starWords; }
      jar.dataset.stars = String(Math.min(before + 1, needed));
      jarCount(jar, Number(jar.dataset.stars));
    }
    const keptNote = party ? party.querySelector("[data-celebrate-kept]") : null;
    if (kept && keptNote) {
      keptNote.hidden = false;
      words += " " + keptNote.textContent;
    }
    const problem = finish.querySelector("[data-did-it-problem]");
    if (problem) { problem.hidden = true; }
    form.hidden = true;
    if (party) { party.hidden = false; }
    announce(form, words);
  }

  function tapOf(form) {
    return {
      client_id: form.elements.client_id.value,
      assignment_id: Number(form.elements.assignment_id.value),
      child_id: childId,
      occurred_at: form.elements.occurred_at.value,
      user_id: userId,
      queued_at: new Date().toISOString(),
    };
  }

  async function keep(form) {
    try {
      await queue.add(tapOf(form));
      requestSync();
      celebrate(form, true);
    } catch (failed) {
      notSaved(form); // storage refused: not sent, not kept
    }
  }

  async function send(form) {
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        cache: "no-store",
        headers: {
          "HX-Request": "true", // answered with the card, as Today's Done is: no redirect
          "X-CSRFToken": csrfToken(),
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams(new FormData(form)).toString(),
      });
    } catch (offline) {
      return keep(form); // the request never left the phone, or its answer was lost
    }
    if (response.ok && !response.redirected) {
      celebrate(form, false);
    } else if (response.status >= 500 || response.redirected || response.status === 401) {
      // A gateway failure, or signed out meanwhile: kept, sent once this person is back.
      return keep(form);
    } else {
      notSaved(form); // 400, 404, 409: not saved; the tap can be redone
    }
    return undefined;
  }

  function setUpDidIt(form) {
    form.addEventListener("submit", async function (event) {
      if (!queue || !window.fetch) { return; } // the plain form, as without JavaScript
      event.preventDefault();
      if (form.dataset.busy === "1") { return; }
      form.dataset.busy = "1";
      const button = form.querySelector("[data-did-it-button]");
      if (button) { button.disabled = true; }
      form.elements.client_id.value = queue.newId();
      form.elements.occurred_at.value = new Date().toISOString();
      try {
        if (navigator.onLine) { await send(form); } else { await keep(form); }
      } finally {
        delete form.dataset.busy;
        if (button) { button.disabled = false; }
      }
    });
  }

  // --- "Grown-ups" ---------------------------------------------------------------------

  function setUpHold(form) {
    const button = form.querySelector("[data-hold-button]");
    const hint = form.querySelector("[data-hold-hint]");
    const status = form.querySelector("[data-hold-status]");
    if (!button) { return; }
    if (hint) { hint.hidden = false; }
    let timer = null;
    let held = false;

    function say(text) { if (status) { status.textContent = text || ""; } }

    function begin(event) {
      if (event.type === "keydown") {
        if (event.key !== "Enter" && event.key !== " ") { return; }
        event.preventDefault();
        if (event.repeat) { return; }
      }
      if (timer) { return; }
      button.classList.add("is-holding");
      say(form.dataset.holding);
      timer = window.setTimeout(function () {
        timer = null;
        button.classList.remove("is-holding");
        if (!navigator.onLine) { say(form.dataset.offline); return; }
        held = true;
        form.submit();
      }, HOLD_MS);
    }

    function cancel() {
      if (!timer) { return; }
      window.clearTimeout(timer);
      timer = null;
      button.classList.remove("is-holding");
      say("");
    }

    button.addEventListener("pointerdown", begin);
    button.addEventListener("keydown", begin);
    ["pointerup", "pointerleave", "pointercancel", "keyup", "blur"].forEach(function (name) {
      button.addEventListener(name, cancel);
    });
    button.addEventListener("contextmenu", function (event) { event.preventDefault(); });
    form.addEventListener("submit", function (event) {
      if (!held) { event.preventDefault(); } // a tap, or a click: only holding opens it
    });
  }

  function setUpLeave(form) {
    const problem = form.querySelector("[data-leave-problem]");
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }
      event.preventDefault();
      if (problem) { problem.textContent = form.dataset.offline; problem.hidden = false; }
    });
  }

  setUpReading();
  document.querySelectorAll("[data-did-it]").forEach(setUpDidIt);
  document.querySelectorAll("[data-hold]").forEach(setUpHold);
  document.querySelectorAll("[data-leave]").forEach(setUpLeave);
  window.addEventListener("hashchange", focusStep);
  waiting().then(showWaiting);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      const data = event.data || {};
      if (data.type === "hp-synced" && (data.saved || []).length &&
          document.querySelector("[data-my-turn-home]")) {
        window.location.reload();
      }
    });
  }
  window.addEventListener("online", sync);
  sync();
})();
