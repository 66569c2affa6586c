/*
 * The offline queue: "Done" taps that could not reach the server wait in IndexedDB and are
 * replayed to POST /api/v1/logs. Loaded by pages (window.HPQueue) and by the service worker
 * (importScripts, self.HPQueue), so Background Sync and the page share one implementation.
 *
 * An entry holds only what a log needs: its client_id (the idempotency key), the assignment,
 * the child, the tap time, optional details, and the user it belongs to. Every tap has its
 * own client_id, made in the browser when it was tapped, so the queue holds one entry per
 * tap. Replays are safe: the server answers a repeated client_id with the same content with
 * the stored log and stores nothing new.
 *
 * An entry the server refuses stays on the phone, marked with the reason ("conflict": 409,
 * its client_id is taken by another session; "gone": 404; "invalid": 400 or 422), until the
 * family has seen it on the today page: nothing tapped is dropped without a word, even when
 * Background Sync sent it while no page was open.
 */
(function (scope) {
  "use strict";

  const DB_NAME = "homeprogram-offline";
  const STORE = "logs";
  const ENDPOINT = "/api/v1/logs";
  const BODY_FIELDS = ["client_id", "assignment_id", "occurred_at", "minutes", "response", "note", "measure_value"];
  const MAX_AGE_MS = 60 * 24 * 3600 * 1000; // the server refuses older sessions anyway
  let flushing = null;

  function openDb() {
    return new Promise(function (resolve, reject) {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "client_id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  // Run one request against the store and resolve with its result once the transaction commits.
  async function withStore(mode, work) {
    const db = await openDb();
    try {
      return await new Promise(function (resolve, reject) {
        const tx = db.transaction(STORE, mode);
        const request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    } finally {
      db.close();
    }
  }

  function put(entry) { return withStore("readwrite", function (s) { return s.put(entry); }); }
  // A new tap: never replaces an entry (a reused client_id fails here instead of losing one).
  function add(entry) { return withStore("readwrite", function (s) { return s.add(entry); }); }
  function remove(clientId) { return withStore("readwrite", function (s) { return s.delete(clientId); }); }
  function all() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function clear() { return withStore("readwrite", function (s) { return s.clear(); }); }

  function newId() {
    if (scope.crypto && typeof scope.crypto.randomUUID === "function") {
      return scope.crypto.randomUUID();
    }
    const bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
      hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function body(entry) {
    const out = {};
    BODY_FIELDS.forEach(function (name) {
      if (entry[name] !== undefined && entry[name] !== "") { out[name] = entry[name]; }
    });
    return out;
  }

  // Who is logged in, and the CSRF token a cookie session needs for writes.
  async function whoAmI() {
    const response = await fetch("/api/v1/me", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    if (!response.ok) { return null; }
    return response.json();
  }

  function send(entry, csrfToken) {
    return fetch(ENDPOINT, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken || "",
      },
      body: JSON.stringify(body(entry)),
    });
  }

  function waiting(entry) { return !entry.rejected; }

  // Why the server will never take this entry as it is; null: try again later.
  function refusal(status) {
    if (status === 409) { return "conflict"; }
    if (status === 404) { return "gone"; }
    if (status === 400 || status === 422) { return "invalid"; }
    return null;
  }

  async function flushOnce() {
    const result = { saved: [], rejected: [], remaining: 0 };
    let entries = await all();
    const now = Date.now();
    for (const entry of entries) {
      if (now - Date.parse(entry.queued_at || entry.occurred_at) > MAX_AGE_MS) {
        await remove(entry.client_id);
      }
    }
    entries = (await all()).filter(waiting);
    if (!entries.length) { return result; }
    let me;
    try {
      me = await whoAmI();
    } catch (offline) {
      result.remaining = entries.length;
      return result;
    }
    if (!me) { // logged out or session expired: keep everything for the next login
      result.remaining = entries.length;
      return result;
    }
    const mine = entries.filter(function (entry) { return entry.user_id === me.id; });
    for (const entry of mine) {
      let response;
      try {
        response = await send(entry, me.csrf_token);
      } catch (offline) {
        break; // the connection dropped again; the rest waits
      }
      const reason = refusal(response.status);
      if (response.ok) {
        // 201 stored now, 200 stored by an earlier try of this same tap.
        await remove(entry.client_id);
        result.saved.push(entry);
      } else if (reason) {
        // Never sent again as it is; a 409 is not "already stored": another session holds
        // this client_id, and this one is not saved. Kept, marked, until the family saw it.
        entry.rejected = reason;
        entry.rejected_at = new Date().toISOString();
        await put(entry);
        result.rejected.push(entry);
      } else {
        break; // 401, 429, 5xx: try again later, in order
      }
    }
    const left = await all();
    result.remaining = left.filter(function (entry) {
      return entry.user_id === me.id && waiting(entry);
    }).length;
    return result;
  }

  // One flush at a time per context; callers share the running one.
  function flush() {
    if (!flushing) {
      flushing = flushOnce().finally(function () { flushing = null; });
    }
    return flushing;
  }

  scope.HPQueue = {
    put: put, add: add, remove: remove, all: all, clear: clear, flush: flush, newId: newId,
  };
})(self);
