/*
 * Passkeys (WebAuthn): the browser's half of the ceremonies, no library.
 *
 * A button carries what it needs in data attributes:
 *   data-passkey="create" (register a passkey) or "get" (sign in / confirm with one),
 *   data-options-url  POST here for the options (the server keeps the challenge),
 *   data-verify-url   POST the browser's answer here; the reply names the next page,
 *   data-name-input   (create) the id of the input holding the passkey's name,
 *   data-status       the id of the element where progress and problems are said.
 * Its words come translated from #passkey-messages. Elements marked data-passkey-area
 * stay hidden in browsers without WebAuthn.
 */
"use strict";

(function () {
  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i += 1) { text += String.fromCharCode(bytes[i]); }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function fromBase64url(value) {
    const base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(base64 + "===".slice((base64.length + 3) % 4));
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i += 1) { bytes[i] = text.charCodeAt(i); }
    return bytes.buffer;
  }

  function words() {
    const node = document.getElementById("passkey-messages");
    return node ? node.dataset : {};
  }

  function say(button, text, problem) {
    const node = document.getElementById(button.dataset.status || "");
    if (!node) { return; }
    node.textContent = text || "";
    node.classList.toggle("error", Boolean(problem));
  }

  async function post(url, body) {
    const token = document.querySelector('meta[name="csrf-token"]');
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token ? token.content : "",
      },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (ignored) { data = {}; }
    return { ok: response.ok, data: data };
  }

  function creationOptions(options) {
    options.challenge = fromBase64url(options.challenge);
    options.user.id = fromBase64url(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = fromBase64url(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = fromBase64url(c.id); });
    return options;
  }

  function registrationJSON(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        attestationObject: toBase64url(response.attestationObject),
        transports: typeof response.getTransports === "function" ? response.getTransports() : [],
      },
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function assertionJSON(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
      },
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  function browserProblem(error) {
    const text = words();
    if (error && error.name === "NotAllowedError") { return text.cancelled; }
    if (error && error.name === "InvalidStateError") { return text.exists; }
    if (error && error.name === "TypeError") { return text.offline; }
    return text.failed;
  }

  async function run(button) {
    const text = words();
    const creating = button.dataset.passkey === "create";
    button.disabled = true;
    say(button, text.working, false);
    try {
      const options = await post(button.dataset.optionsUrl);
      if (!options.ok) { say(button, options.data.error || text.failed, true); return; }
      let body;
      if (creating) {
        const credential = await navigator.credentials.create({
          publicKey: creationOptions(options.data),
        });
        const input = document.getElementById(button.dataset.nameInput || "");
        body = { credential: registrationJSON(credential), name: input ? input.value : "" };
      } else {
        const credential = await navigator.credentials.get({
          publicKey: requestOptions(options.data),
        });
        body = { credential: assertionJSON(credential) };
      }
      const result = await post(button.dataset.verifyUrl, body);
      if (result.ok && result.data.redirect) {
        window.location.assign(result.data.redirect);
        return;
      }
      say(button, result.data.error || text.failed, true);
    } catch (error) {
      say(button, browserProblem(error), true);
    } finally {
      button.disabled = false;
    }
  }

  function start() {
    const buttons = document.querySelectorAll("[data-passkey]");
    if (!buttons.length) { return; }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(buttons[0], words().unsupported, false);
      return;
    }
    document.querySelectorAll("[data-passkey-area]").forEach(function (area) {
      area.hidden = false;
    });
    buttons.forEach(function (button) {
      button.addEventListener("click", function () { run(button); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
