/*
 * The demo shop's "Buy" buttons (templates/demo/shop.html): each reports one order through the image pixel's
 * conversion path (GET /api/v1/conversions/pixel with the advertiser's pixel token, public by design) with the
 * click id track.js kept, as a merchant's order confirmation page would.
 */
(function (window, document) {
  "use strict";

  var shop = document.getElementById("shop");
  if (!shop) return;
  var result = shop.querySelector("[data-testid=shop-result]");
  var state = shop.querySelector("[data-testid=click-state]");

  function clickId() {
    return window.AffiliateTracking ? window.AffiliateTracking.getClickId() : null;
  }

  function say(template, values, isError) {
    result.textContent = template.replace(/%\((\w+)\)s/g, function (_, key) { return values[key]; });
    result.classList.toggle("error", !!isError);
  }

  function orderId() {
    return "DEMO-" + Date.now().toString(36).toUpperCase() + "-" + Math.random().toString(36).slice(2, 6).toUpperCase();
  }

  function buy(button) {
    var order = orderId();
    var params = new URLSearchParams({
      token: shop.dataset.token, order_id: order, amount: button.dataset.amount,
      currency: shop.dataset.currency, event: button.dataset.event
    });
    var id = clickId();
    if (id) params.set("click_id", id);
    button.disabled = true;
    window.fetch(shop.dataset.pixelUrl + "?" + params.toString(), { credentials: "omit", cache: "no-store" })
      .then(function (answer) {
        if (answer.status === 201) say(result.dataset.ok, { order: order });
        else if (answer.status === 200) say(result.dataset.again, { order: order });
        else say(result.dataset.fail, { status: answer.status }, true);
      })
      .catch(function () { say(result.dataset.fail, { status: "-" }, true); })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    state.textContent = clickId() ? state.dataset.some : state.dataset.none;
    var buttons = shop.querySelectorAll("[data-buy]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) { buy(event.currentTarget); });
    }
  });
})(window, document);
