/* Passkeys (WebAuthn) for Bastion: register one on the account page, use one at the login
 * step. Our own file (no CDN); it talks to the server with fetch + the page's XSRF token.
 *
 *   [data-passkey-register="URL"]  account page: POST URL + "options/" → navigator.
 *                                  credentials.create → POST URL {credential, name}
 *   [data-passkey-login="URL"]     login step: POST URL + "options/" → navigator.
 *                                  credentials.get → POST URL {credential} → go to "next"
 *
 * Without JavaScript or WebAuthn the buttons stay hidden and the pages work with codes.
 */
(function () {
  "use strict";
  var T = window.bastionText || function (text) { return text; };

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var raw = atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function xsrfToken() {
    var meta = document.querySelector('meta[name="xsrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* the server's refusal: its text is in the page's language already */
  function refusal(text) {
    var error = new Error(text);
    error.fromServer = true;
    return error;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-XSRFToken": xsrfToken()},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw refusal(data.error || T("The server refused the request (%(status)s).",
                                        {status: response.status}));
        }
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, {id: toBuffer(item.id)});
    });
  }

  function credentialJSON(credential) {
    var r = credential.response;
    var out = {id: credential.id, rawId: toText(credential.rawId), type: credential.type,
               clientExtensionResults: credential.getClientExtensionResults ?
                 credential.getClientExtensionResults() : {},
               response: {clientDataJSON: toText(r.clientDataJSON)}};
    if (credential.authenticatorAttachment) {
      out.authenticatorAttachment = credential.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    }
    if (r.authenticatorData) {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      out.response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return out;
  }

  /* What the user reads for a refusal. The browser's own (a DOMException, named by the
     WebAuthn spec) come with English texts that are not for users: each name we can meet
     has its own translated text, anything else (a lost connection, a name added later)
     a general one. Only the server's refusals, translated there, are shown as sent. */
  function errorText(error) {
    if (error && error.fromServer) { return error.message; }
    switch (error && error.name) {
      case "NotAllowedError":
        return T("The passkey request was cancelled or timed out.");
      case "InvalidStateError":
        return T("This passkey is registered already.");
      case "AbortError":
        return T("The passkey request was stopped.");
      case "SecurityError":
        return T("Passkeys cannot be used at this page's address.");
      case "NotSupportedError":
        return T("This browser or security key does not support the passkey this site asks for.");
      case "ConstraintError":
        return T("This security key cannot verify you the way this site requires (PIN, fingerprint or face).");
      default:
        return T("The passkey did not work. Try again.");
    }
  }

  function showError(box, error) {
    var message = box.querySelector(".passkey-error");
    if (message) {
      message.textContent = errorText(error);
      message.hidden = false;
    }
  }

  function register(box) {
    var url = box.getAttribute("data-passkey-register");
    var nameInput = box.querySelector("#passkey_name");
    return post(url + "options/").then(function (options) {
      options.challenge = toBuffer(options.challenge);
      options.user.id = toBuffer(options.user.id);
      options.excludeCredentials = descriptors(options.excludeCredentials);
      return navigator.credentials.create({publicKey: options});
    }).then(function (credential) {
      return post(url, {credential: credentialJSON(credential),
                        name: nameInput ? nameInput.value : ""});
    }).then(function () {
      window.location.assign(window.location.pathname + "?done=passkey-added");
    });
  }

  function logIn(box) {
    var url = box.getAttribute("data-passkey-login");
    return post(url + "options/").then(function (options) {
      options.challenge = toBuffer(options.challenge);
      options.allowCredentials = descriptors(options.allowCredentials);
      return navigator.credentials.get({publicKey: options});
    }).then(function (credential) {
      return post(url, {credential: credentialJSON(credential)});
    }).then(function (answer) {
      window.location.assign(answer.next || "/admin/");
    });
  }

  function wire(selector, action) {
    document.querySelectorAll(selector).forEach(function (box) {
      var button = box.querySelector(".passkey-button");
      if (!button || !window.PublicKeyCredential || !navigator.credentials) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        button.disabled = true;
        action(box).catch(function (error) {
          showError(box, error);
          button.disabled = false;
        });
      });
    });
  }

  wire("[data-passkey-register]", register);
  wire("[data-passkey-login]", logIn);
}());
