/*
 * The service worker, served at /sw.js so that it controls the whole site. The server puts
 * two constants in front of this file: HP_VERSION (a hash of this file and of the shell, so
 * any change installs a new worker) and HP_SHELL (the URLs of the app shell).
 *
 * What it keeps, deliberately and nothing else:
 *  - the app shell (styles, scripts, htmx, an icon, the manifest, the offline page), in a
 *    cache named after the version; older versions are removed on activate;
 *  - the last "today" page of each child the family opened, refreshed on every online visit,
 *    so the page opens in a basement; it is shown with the offline banner. Logout deletes it.
 * Everything else, and every request that is not a GET, goes to the network untouched.
 */
/* global HP_VERSION, HP_SHELL, HPQueue */
"use strict";

importScripts("/static/js/offline-queue.js");
importScripts("/static/js/sw-push.js");

const SHELL_CACHE = "hp-shell-" + HP_VERSION;
const PAGES_CACHE = "hp-pages-v1";
const TODAY_PAGE = /^\/(today|children\/\d+\/today)$/;
const SYNC_TAG = "hp-log-sync";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) {
        // Without cookies: the shell is the same for everyone and carries no user data.
        return cache.addAll(HP_SHELL.map(function (url) {
          return new Request(url, { credentials: "omit", cache: "no-cache" });
        }));
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf("hp-shell-") === 0 && name !== SHELL_CACHE;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

async function fromShell(request, url) {
  const cache = await caches.open(SHELL_CACHE);
  const kept = await cache.match(url.pathname, { ignoreSearch: true, ignoreVary: true });
  return kept || fetch(request);
}

async function offlineCopy(kept) {
  const html = await kept.text();
  // The banner is in every today page, hidden; a kept copy shows it.
  const shown = html.replace("data-offline-banner hidden", "data-offline-banner");
  return new Response(shown, {
    status: 200,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

async function navigate(request, url) {
  const keep = TODAY_PAGE.test(url.pathname) && !url.search;
  try {
    const response = await fetch(request);
    if (keep && response.ok && response.type === "basic") {
      const cache = await caches.open(PAGES_CACHE);
      await cache.put(url.pathname, response.clone());
    }
    return response;
  } catch (offline) {
    const pages = await caches.open(PAGES_CACHE);
    // The installed app starts at "/", which online redirects to today.
    const key = url.pathname === "/" ? "/today" : url.pathname;
    const kept = TODAY_PAGE.test(key) ? await pages.match(key, { ignoreVary: true }) : undefined;
    if (kept) { return offlineCopy(kept); }
    const fallback = await caches.match("/offline", { ignoreVary: true });
    return fallback || Response.error();
  }
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") { return; }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(navigate(request, url));
  } else if (HP_SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(fromShell(request, url));
  }
});

async function replay() {
  const result = await HPQueue.flush();
  const brief = function (entry) {
    return { client_id: entry.client_id, assignment_id: entry.assignment_id };
  };
  if (result.saved.length || result.rejected.length) {
    const windows = await self.clients.matchAll({ type: "window" });
    windows.forEach(function (client) {
      client.postMessage({
        type: "hp-synced",
        saved: result.saved.map(brief),
        rejected: result.rejected.map(brief),
      });
    });
  }
  if (result.remaining) {
    throw new Error("Logs still waiting; the browser will retry the sync.");
  }
}

self.addEventListener("sync", function (event) {
  if (event.tag === SYNC_TAG) { event.waitUntil(replay()); }
});
