// Page behaviour without inline handlers (the Content-Security-Policy allows scripts from this site only):
// data-confirm asks before a button acts, data-autosubmit submits its form on change, data-select-all="name"
// ticks every checkbox of that name.
(function () {
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
