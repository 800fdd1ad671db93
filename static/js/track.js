/*
 * Affiliate click tracking for the merchant's site (first-party, no third-party cookies).
 *
 * Include on every landing page:   <script src="https://<tracking host>/static/js/track.js" defer></script>
 * When a visitor arrives through a tracking link, the landing URL carries ?click_id=<id>. This script keeps
 * it in a first-party cookie and localStorage for the attribution window (last click wins: a new click id replaces
 * the kept one; with data-attribution="first_click" the first one is kept until the window ends), so the
 * merchant's checkout can send it with the server-to-server conversion postback:
 *
 *   AffiliateTracking.getClickId()   -> "01J9Z3..." or null
 *   AffiliateTracking.fillInputs()   -> sets <input name="click_id"> (or [data-affiliate-click-id]) in forms
 *
 * Stripe Checkout (with a Stripe integration, no postback needed): the merchant's server passes the id
 * when it creates the session, client_reference_id=<click id> (or metadata[click_id]); the payment, the
 * subscription's invoices and refunds then arrive as conversions through the integration's webhook URL.
 *
 * Options (data attributes on the script tag): data-days="30" (cookie lifetime), data-param="click_id",
 * data-cookie="afn_click_id", data-domain=".shop.example" (share across subdomains), data-attribution="last_click"
 * or "first_click" (the program's attribution model: the integration page's snippet sets it and data-days).
 */
(function (window, document) {
  "use strict";

  var script = document.currentScript || {};
  var dataset = script.dataset || {};
  var PARAM = dataset.param || "click_id";
  var COOKIE = dataset.cookie || "afn_click_id";
  var DAYS = parseInt(dataset.days || "30", 10);
  var DOMAIN = dataset.domain || "";
  var FIRST_CLICK = dataset.attribution === "first_click";
  // Click ids are ULIDs: 26 Crockford base32 characters, first one 0-7.
  var CLICK_ID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

  function readParam() {
    var match = new RegExp("[?&]" + PARAM + "=([^&#]*)").exec(window.location.search);
    if (!match) return null;
    var value = decodeURIComponent(match[1].replace(/\+/g, " ")).toUpperCase();
    return CLICK_ID.test(value) ? value : null;
  }

  function readCookie() {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var pair = parts[i].split("=");
      if (pair[0] === COOKIE && CLICK_ID.test(pair[1])) return pair[1];
    }
    return null;
  }

  function store(clickId) {
    var expires = new Date(Date.now() + DAYS * 864e5).toUTCString();
    var cookie = COOKIE + "=" + clickId + "; expires=" + expires + "; path=/; SameSite=Lax";
    if (DOMAIN) cookie += "; domain=" + DOMAIN;
    if (window.location.protocol === "https:") cookie += "; Secure";
    document.cookie = cookie;
    try {
      window.localStorage.setItem(COOKIE, JSON.stringify({ id: clickId, expires: Date.now() + DAYS * 864e5 }));
    } catch (e) { /* storage disabled: the cookie is enough */ }
  }

  function readStorage() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(COOKIE) || "null");
      if (saved && saved.expires > Date.now() && CLICK_ID.test(saved.id)) return saved.id;
    } catch (e) { /* ignore */ }
    return null;
  }

  function getClickId() {
    return readCookie() || readStorage();
  }

  function fillInputs(root) {
    var clickId = getClickId();
    if (!clickId) return 0;
    var inputs = (root || document).querySelectorAll('input[name="' + PARAM + '"], [data-affiliate-click-id]');
    for (var i = 0; i < inputs.length; i++) inputs[i].value = clickId;
    return inputs.length;
  }

  var fresh = readParam();
  // Last click: a new click replaces the kept one. First click: the kept one stays until its window ends (the
  // cookie and the stored copy expire with it); the server credits the visitor's first click as well.
  if (fresh && !(FIRST_CLICK && getClickId())) store(fresh);

  window.AffiliateTracking = { getClickId: getClickId, fillInputs: fillInputs, store: store,
                               attribution: FIRST_CLICK ? "first_click" : "last_click" };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { fillInputs(); });
  } else {
    fillInputs();
  }
})(window, document);
