// Page behaviour without inline handlers (the Content-Security-Policy allows scripts from this site only):
// data-confirm asks before a button acts, data-autosubmit submits its form on change, data-select-all="name"
// ticks every checkbox of that name; data-menu-toggle opens and closes the party's menu on a phone.
document.documentElement.classList.add("js");

(function () {
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (toggle) {
      var menu = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    } else if (target.matches("[data-select-all]")) {
      document.querySelectorAll('input[type="checkbox"][name="' + target.dataset.selectAll + '"]').forEach(
        function (box) { box.checked = target.checked; });
    }
  });
})();

// A box that scrolls sideways on a phone (a wide table, a code sample) takes keyboard focus, so it can be
// scrolled without a mouse; checked again when the window is resized and after htmx swaps content in.
(function () {
  var SCROLLING = ["auto", "scroll"];
  function markScrollables() {
    document.querySelectorAll("main table, main pre, main .table-scroll, main .report-table-box, main .overflow-auto, main .balances")
      .forEach(function (box) {
        var scrolls = SCROLLING.indexOf(getComputedStyle(box).overflowX) >= 0 && box.scrollWidth > box.clientWidth;
        if (scrolls && !box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.dataset.scrollFocus = "1";
        } else if (!scrolls && box.dataset.scrollFocus) {
          box.removeAttribute("tabindex");
          delete box.dataset.scrollFocus;
        }
      });
  }
  document.addEventListener("DOMContentLoaded", markScrollables);
  window.addEventListener("load", markScrollables);
  window.addEventListener("resize", markScrollables);
  document.addEventListener("htmx:afterSettle", markScrollables);
})();
