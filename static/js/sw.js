/*
 * The service worker, served at /sw.js so that it controls the whole site. The server puts
 * two constants in front of this file: HP_VERSION (a hash of this file and of the shell, so
 * any change installs a new worker) and HP_SHELL (the URLs of the app shell).
 *
 * What it keeps, deliberately and nothing else:
 *  - the app shell (styles, scripts, htmx, an icon, the manifest, the offline page), in a
 *    cache named after the version; older versions are removed on activate;
 *  - the last "today" page of each child, under that child's own address
 *    (/children/<id>/today; /today is the first child's page and is kept under both), refreshed
 *    on every online visit and when a reminder for the child arrives, so the page, and the
 *    reminder's link, open in a basement; it is shown with the offline banner. Logout
 *    deletes it;
 *  - the pictures a kept today page shows (activity illustrations, step pictures, custom
 *    photos), fetched when the page is kept, so its cards have their pictures offline;
 *  - the videos of today's cards, only when the parent asks for them on the today page
 *    (they are large; earlier days' are let go then); served with range requests like the
 *    server does, so they seek.
 *  - the child's "My turn" pages (/children/<id>/my-turn and its activities), kept when
 *    the cards page is opened online, with the activity pages it links to, their pictures
 *    and its own style and script (served network-first, from the cache offline), so the
 *    child's screen works offline once opened;
 *  - the "My turn" lock: every page the server answers while a browser is locked into a
 *    child's screen carries X-HP-My-Turn (its address); the worker notes it and, offline,
 *    serves that kept screen for any page asked for (a kept Today too), until a page comes
 *    from the server without the header (the grown-up answered the sum).
 *  Every "hp-pages" cache is deleted at logout.
 * Everything else, and every request that is not a GET, goes to the network untouched.
 */
/* global HP_VERSION, HP_SHELL, HPQueue */
"use strict";

importScripts("/static/js/offline-queue.js");
importScripts("/static/js/sw-push.js");

const SHELL_CACHE = "hp-shell-" + HP_VERSION;
const PAGES_CACHE = "hp-pages-v1";
const PICTURES_CACHE = "hp-pages-pictures-v1";
const VIDEOS_CACHE = "hp-pages-videos-v1";
const PICTURE = /^\/library\/(illustrations\/[a-z0-9-]+\.svg|\d+\/picture\/[A-Za-z0-9_-]+\.webp)$/;
const VIDEO = /^\/media\/\d+\/(video\.mp4|poster\.jpg)$/;
const TODAY_PAGE = /^\/(today|children\/\d+\/today)$/;
const SYNC_TAG = "hp-log-sync";
// "My turn": its pages, what they load besides the shell, and the lock (a made-up address
// in its cache, holding the locked child's "My turn" address).
const MY_TURN_CACHE = "hp-pages-my-turn-v1";
const MY_TURN_PAGE = /^\/children\/\d+\/my-turn(?:\/activities\/\d+)?$/;
const MY_TURN_ACTIVITY = /\/children\/\d+\/my-turn\/activities\/\d+/g;
const MY_TURN_ASSETS = ["/static/css/my-turn.css", "/static/js/my-turn.js"];
const MY_TURN_LOCK = "/my-turn-lock";
const LOCK_HEADER = "X-HP-My-Turn";

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

// The address a today page is kept under, or null for a page that is not kept. The
// installed app starts at "/", which online redirects to today; reminders sent before each
// child had its own address link to /today?child=<id>, which online redirects there.
function pageKey(url) {
  if (url.pathname === "/" && !url.search) { return "/today"; }
  if (url.pathname === "/today" && url.search) {
    const child = url.searchParams.get("child");
    return child && /^\d+$/.test(child) ? "/children/" + child + "/today" : null;
  }
  return TODAY_PAGE.test(url.pathname) && !url.search ? url.pathname : null;
}

async function keepPage(key, response) {
  if (!response.ok || response.type !== "basic" || response.redirected) { return; }
  const cache = await caches.open(PAGES_CACHE);
  // /today is the first child's page: the server names that child's address.
  const also = response.headers.get("Content-Location");
  if (also && also !== key && TODAY_PAGE.test(also)) {
    await cache.put(also, response.clone());
  }
  await cache.put(key, response.clone());
  await keepPictures(await response.clone().text());
}

// The pictures of a kept page; the ones already kept are not fetched again (their URLs
// carry their version).
async function keepPictures(html) {
  const cache = await caches.open(PICTURES_CACHE);
  const found = html.match(/\/library\/(?:illustrations\/[a-z0-9-]+\.svg\?v=[0-9a-f]+|\d+\/picture\/[A-Za-z0-9_-]+\.webp)/g) || [];
  const wanted = Array.from(new Set(found));
  await Promise.all(wanted.map(async function (path) {
    if (await cache.match(path)) { return; }
    try {
      const response = await fetch(path, { credentials: "same-origin" });
      if (response.ok) { await cache.put(path, response); }
    } catch (offline) { /* kept on the next online visit */ }
  }));
}

async function picture(request) {
  const cache = await caches.open(PICTURES_CACHE);
  const kept = await cache.match(request, { ignoreVary: true });
  return kept || fetch(request);
}

// A kept video (or poster), answering a Range request with the part asked for.
async function video(request, url) {
  const cache = await caches.open(VIDEOS_CACHE);
  const kept = await cache.match(url.pathname, { ignoreVary: true });
  if (!kept) { return fetch(request); }
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.get("Range") || "");
  if (!range) { return kept; }
  const body = await kept.blob();
  const size = body.size;
  let start = range[1] === "" ? size - Number(range[2]) : Number(range[1]);
  let end = range[1] === "" || range[2] === "" ? size - 1 : Number(range[2]);
  start = Math.max(0, start);
  end = Math.min(end, size - 1);
  if (start > end) {
    return new Response(null, { status: 416, headers: { "Content-Range": "bytes */" + size } });
  }
  return new Response(body.slice(start, end + 1), {
    status: 206,
    headers: {
      "Content-Type": kept.headers.get("Content-Type") || "video/mp4",
      "Content-Range": "bytes " + start + "-" + end + "/" + size,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}

// The today page asks to keep its videos ({type, urls}; answers on the port): those are
// fetched, and videos kept on an earlier day are let go, so the phone holds today's only
// (the size the page showed).
async function keepVideos(urls) {
  const cache = await caches.open(VIDEOS_CACHE);
  const kept = [];
  for (const path of urls) {
    if (!VIDEO.test(new URL(path, self.location.origin).pathname)) { continue; }
    if (!(await cache.match(path))) {
      const response = await fetch(path, { credentials: "same-origin" });
      if (!response.ok) { throw new Error("A video could not be fetched: " + response.status); }
      await cache.put(path, response);
    }
    kept.push(new URL(path, self.location.origin).pathname);
  }
  const old = await cache.keys();
  await Promise.all(old.filter(function (request) {
    return kept.indexOf(new URL(request.url).pathname) === -1;
  }).map(function (request) { return cache.delete(request); }));
  return kept;
}

self.addEventListener("message", function (event) {
  const data = event.data || {};
  const port = event.ports && event.ports[0];
  if (data.type === "hp-keep-videos" && Array.isArray(data.urls)) {
    event.waitUntil(keepVideos(data.urls).then(
      function (kept) { if (port) { port.postMessage({ ok: true, kept: kept }); } },
      function (error) { if (port) { port.postMessage({ ok: false, error: String(error) }); } }
    ));
  }
});

// Fetch a child's today page and keep it (a reminder for that child just arrived, so the
// phone is online now and may not be when the family taps it).
async function keepTodayPage(path) {
  const url = new URL(path, self.location.origin);
  const key = url.origin === self.location.origin ? pageKey(url) : null;
  if (!key) { return; }
  const response = await fetch(key, {
    credentials: "same-origin",
    redirect: "manual", // signed out: the login page is not kept as the child's page
    headers: { Accept: "text/html" },
  });
  await keepPage(key, response);
}
self.hpKeepTodayPage = keepTodayPage;

// --- "My turn" ---------------------------------------------------------------------------

// The lock as the server last said it: set by a page carrying the header, lifted by an
// HTML page without it. Redirects (opaque here) say nothing.
async function noteLock(response) {
  if (response.type !== "basic" || !response.ok) { return; }
  const home = response.headers.get(LOCK_HEADER);
  if (home && MY_TURN_PAGE.test(home)) {
    const cache = await caches.open(MY_TURN_CACHE);
    await cache.put(MY_TURN_LOCK, new Response(home, { headers: { "Content-Type": "text/plain" } }));
  } else if ((response.headers.get("Content-Type") || "").indexOf("text/html") === 0 &&
             await caches.has(MY_TURN_CACHE)) {
    await (await caches.open(MY_TURN_CACHE)).delete(MY_TURN_LOCK);
  }
}

async function lockedTo() {
  const kept = await caches.match(MY_TURN_LOCK, { cacheName: MY_TURN_CACHE });
  return kept ? kept.text() : null;
}

// A "My turn" page as served; the cards page brings its activity pages, and both their
// pictures and the screen's style and script. The ones not fetched now are on the next visit.
async function keepMyTurn(path, response) {
  if (!response.ok || response.type !== "basic" || response.redirected) { return; }
  const cache = await caches.open(MY_TURN_CACHE);
  const pages = [await response.clone().text()];
  await cache.put(path, response);
  const linked = path.endsWith("/my-turn") ? Array.from(new Set(pages[0].match(MY_TURN_ACTIVITY) || [])) : [];
  for (const address of linked) {
    try {
      const page = await fetch(address, {
        credentials: "same-origin", redirect: "manual", headers: { Accept: "text/html" },
      });
      if (page.ok && page.type === "basic") {
        pages.push(await page.clone().text());
        await cache.put(address, page);
      }
    } catch (offline) { /* kept on the next online visit */ }
  }
  await Promise.all(MY_TURN_ASSETS.map(async function (asset) {
    if (await cache.match(asset)) { return; }
    try {
      const file = await fetch(asset, { credentials: "omit", cache: "no-cache" });
      if (file.ok) { await cache.put(asset, file); }
    } catch (offline) { /* kept on the next online visit */ }
  }));
  await keepPictures(pages.join("\n"));
}

// The screen's style and script: fresh online (and kept), the kept copy offline.
async function myTurnAsset(request, url) {
  try {
    const response = await fetch(request);
    if (response.ok) { await (await caches.open(MY_TURN_CACHE)).put(url.pathname, response.clone()); }
    return response;
  } catch (offline) {
    const kept = await caches.match(url.pathname, { cacheName: MY_TURN_CACHE });
    return kept || Response.error();
  }
}

// Offline: a kept "My turn" page, else the offline page.
async function myTurnOffline(path) {
  const kept = await caches.match(path, { cacheName: MY_TURN_CACHE, ignoreVary: true });
  if (kept) { return offlineCopy(kept); }
  const fallback = await caches.match("/offline", { ignoreVary: true });
  return fallback || Response.error();
}

async function navigate(request, url, event) {
  const key = pageKey(url);
  const turn = MY_TURN_PAGE.test(url.pathname) ? url.pathname : null;
  try {
    const response = await fetch(request);
    await noteLock(response).catch(function () {});
    if (turn && !url.search) {
      // In the background: the page shows at once, its activities follow.
      event.waitUntil(keepMyTurn(turn, response.clone()).catch(function () {}));
    } else if (key && url.pathname !== "/") {
      await keepPage(key, response);
    }
    return response;
  } catch (offline) {
    const lock = await lockedTo();
    if (lock) {
      // Locked into a child's screen: that screen, whatever was asked for.
      const inside = turn && (turn === lock || turn.indexOf(lock + "/") === 0);
      return myTurnOffline(inside ? turn : lock);
    }
    if (turn) { return myTurnOffline(turn); }
    const pages = await caches.open(PAGES_CACHE);
    const kept = key ? await pages.match(key, { ignoreVary: true }) : undefined;
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
    event.respondWith(navigate(request, url, event));
  } else if (MY_TURN_ASSETS.indexOf(url.pathname) !== -1) {
    event.respondWith(myTurnAsset(request, url));
  } else if (HP_SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(fromShell(request, url));
  } else if (PICTURE.test(url.pathname)) {
    event.respondWith(picture(request));
  } else if (VIDEO.test(url.pathname)) {
    event.respondWith(video(request, url));
  }
});

async function replay() {
  const result = await HPQueue.flush();
  const brief = function (entry) {
    return {
      client_id: entry.client_id, assignment_id: entry.assignment_id, rejected: entry.rejected,
    };
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
