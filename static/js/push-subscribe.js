// Turning notifications on for this device: permission is asked from the button click (a
// user gesture, as iOS requires), then the browser subscribes with our VAPID public key and
// the subscription is POSTed as JSON with the CSRF header. No inline script (strict CSP).
(function () {
  "use strict";

  var root = document.getElementById("push-setup");
  if (!root) return;
  var statusLine = document.getElementById("push-status");
  var publicKey = root.getAttribute("data-public-key");
  var subscribeUrl = root.getAttribute("data-subscribe-url");

  function show(state) {
    var parts = root.querySelectorAll("[data-push-state]");
    for (var i = 0; i < parts.length; i++) {
      parts[i].hidden = parts[i].getAttribute("data-push-state") !== state;
    }
  }

  function msg(name) {
    return root.getAttribute("data-msg-" + name) || "";
  }

  function say(text) {
    if (statusLine) statusLine.textContent = text;
  }

  // The applicationServerKey is unpadded base64url; subscribe() wants the raw 65 bytes.
  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription) {
    var key = subscription.options && subscription.options.applicationServerKey;
    if (!key) return true; // not exposed by this browser: assume it matches
    var a = new Uint8Array(key), b = keyBytes(publicKey);
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function isIOS() {
    return /iPad|iPhone|iPod/.test(navigator.userAgent) ||
      (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  }

  function standalone() {
    return window.navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  }

  // The device's name as its owner reads it on the devices page: product names as they are,
  // the words around them from the page (data-msg-*, translated).
  function guessName() {
    var ua = navigator.userAgent;
    if (/iPhone/.test(ua)) return "iPhone";
    if (/iPad/.test(ua) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1)) return "iPad";
    if (/Android/.test(ua)) return /Mobile/.test(ua) ? msg("android-phone") : msg("android-tablet");
    var browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" :
      /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : msg("browser");
    var system = /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "Mac" :
      /CrOS/.test(ua) ? "Chromebook" : /Linux/.test(ua) ? "Linux" : "";
    return system ? msg("on-system").replace("{browser}", browser).replace("{system}", system) : browser;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function registration() {
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg || navigator.serviceWorker.register("/sw.js", { scope: "/" });
    }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function store(subscription, name) {
    return fetch(subscribeUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ subscription: subscription.toJSON(), device_name: name })
    }).then(function (response) {
      if (!response.ok) throw new Error(msg("rejected") + " (" + response.status + ")");
      return response.json();
    });
  }

  function subscribe(reg) {
    return reg.pushManager.subscribe({
      userVisibleOnly: true, // every push shows a notification (Safari revokes silent ones)
      applicationServerKey: keyBytes(publicKey)
    });
  }

  function enable() {
    var nameInput = document.getElementById("device-name");
    var name = (nameInput && nameInput.value.trim()) || guessName();
    say(msg("asking"));
    // requestPermission straight from the click handler: the gesture must not be lost.
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        show("denied");
        say("");
        throw null;
      }
      return registration();
    }).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (existing) {
        if (existing && sameKey(existing)) return existing;
        return (existing ? existing.unsubscribe() : Promise.resolve()).then(function () {
          return subscribe(reg);
        });
      });
    }).then(function (subscription) {
      return store(subscription, name);
    }).then(function () {
      show("subscribed");
      say(msg("saved"));
      window.location.reload();
    }).catch(function (error) {
      if (error) say(error.message || String(error));
    });
  }

  // On load: explain instead of failing silently, and quietly renew a subscription made
  // with an old key (after `homeprogram vapid rotate`) when permission is already granted.
  function start() {
    if (!publicKey) { show("unconfigured"); return; }
    var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
    if (!supported) {
      show(isIOS() && !standalone() ? "ios-install" : "unsupported");
      return;
    }
    if (Notification.permission === "denied") { show("denied"); return; }
    var nameInput = document.getElementById("device-name");
    if (nameInput && !nameInput.value) nameInput.value = guessName();
    show("ready");
    var button = document.getElementById("push-enable");
    if (button) button.addEventListener("click", enable);
    if (Notification.permission !== "granted") return;
    navigator.serviceWorker.getRegistration("/").then(function (reg) {
      if (!reg) return null;
      return reg.pushManager.getSubscription().then(function (existing) {
        if (!existing) return null;
        if (sameKey(existing)) { show("subscribed"); return null; }
        return existing.unsubscribe().then(function () { return subscribe(reg); })
          .then(function (fresh) { return store(fresh, guessName()); })
          .then(function () { show("subscribed"); say(msg("renewed")); });
      });
    }).catch(function () { /* stay on "ready": the button still works */ });
  }

  start();
})();
