/*
 * The offline queue: "Done" taps that could not reach the server wait in IndexedDB and are
 * replayed to POST /api/v1/logs. Loaded by pages (window.HPQueue) and by the service worker
 * (importScripts, self.HPQueue), so Background Sync and the page share one implementation.
 *
 * An entry holds only what a log needs: its client_id (the idempotency key), the assignment,
 * the child, the tap time, optional details, and the user it belongs to. Replays are safe:
 * the server answers a repeated client_id with the stored log and stores nothing new.
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

  async function flushOnce() {
    const result = { saved: [], rejected: [], remaining: 0 };
    let entries = await all();
    const now = Date.now();
    for (const entry of entries) {
      if (now - Date.parse(entry.queued_at || entry.occurred_at) > MAX_AGE_MS) {
        await remove(entry.client_id);
      }
    }
    entries = await all();
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
      if (response.ok || response.status === 409) {
        // 201 stored, 200 already stored, 409 this client_id is taken: in every case the
        // server holds this session, so it leaves the phone.
        await remove(entry.client_id);
        result.saved.push(entry);
      } else if ([400, 404, 422].indexOf(response.status) !== -1) {
        await remove(entry.client_id); // the server will never accept it as it is
        result.rejected.push(entry);
      } else {
        break; // 401, 429, 5xx: try again later, in order
      }
    }
    const left = await all();
    result.remaining = left.filter(function (entry) { return entry.user_id === me.id; }).length;
    return result;
  }

  // One flush at a time per context; callers share the running one.
  function flush() {
    if (!flushing) {
      flushing = flushOnce().finally(function () { flushing = null; });
    }
    return flushing;
  }

  scope.HPQueue = { put: put, remove: remove, all: all, clear: clear, flush: flush, newId: newId };
})(self);
