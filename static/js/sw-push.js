// Push handlers for the service worker (imported by /sw.js with importScripts).
// Every push shows a notification inside event.waitUntil: Safari revokes subscriptions
// that receive pushes silently. A tap opens (or focuses) the page the payload names: a
// reminder names its child's today page, which the worker fetches and keeps (sw.js) when
// the push arrives, so the tap opens that child's page even offline.
/* global self, clients */
(function () {
  "use strict";

  self.addEventListener("push", function (event) {
    var data = {};
    try {
      data = event.data ? event.data.json() : {};
    } catch (e) {
      data = { body: event.data ? event.data.text() : "" };
    }
    var title = data.title || "homeprogram";
    var options = {
      body: data.body || "",
      tag: data.tag || undefined, // a newer reminder for the same child and day replaces the older
      renotify: Boolean(data.tag),
      data: { url: data.url || "/" },
      icon: "/static/icons/icon-192.png",
      badge: "/static/icons/icon-192.png"
    };
    var shown = self.registration.showNotification(title, options);
    var kept = self.hpKeepTodayPage ?
      self.hpKeepTodayPage(options.data.url).catch(function () { /* kept when visited */ }) :
      null;
    event.waitUntil(Promise.all([shown, kept]));
  });

  self.addEventListener("notificationclick", function (event) {
    event.notification.close();
    var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
    event.waitUntil(
      clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
        for (var i = 0; i < windows.length; i++) {
          if (windows[i].url === target && "focus" in windows[i]) return windows[i].focus();
        }
        // A window of ours on another page (another child's today): show this child there.
        for (var j = 0; j < windows.length; j++) {
          var w = windows[j];
          if (new URL(w.url).origin === self.location.origin && "navigate" in w) {
            return w.navigate(target).then(
              function (c) { return (c || w).focus(); },
              function () { return clients.openWindow(target); } // not controlled by us
            );
          }
        }
        return clients.openWindow(target);
      })
    );
  });

  // The browser rotated the subscription: subscribe again with our key and tell the
  // server, proving ownership with the old endpoint (the worker has no CSRF token).
  self.addEventListener("pushsubscriptionchange", function (event) {
    var old = event.oldSubscription;
    function keyBytes(base64url) {
      var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
      var raw = atob(padded);
      var bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      return bytes;
    }
    var renewed = event.newSubscription ? Promise.resolve(event.newSubscription) :
      fetch("/push/key", { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          return self.registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(body.publicKey)
          });
        });
    event.waitUntil(
      renewed.then(function (subscription) {
        if (!old) return null; // nothing to prove ownership with: the settings page renews it
        return fetch("/push/renew", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ old_endpoint: old.endpoint, subscription: subscription.toJSON() })
        });
      })
    );
  });
})();
