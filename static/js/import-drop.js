// The import page's drop zone: a file dropped on it becomes the file input's file (the form posts it as usual);
// without this script the plain file input works alone.
(function () {
  var zone = document.querySelector("[data-drop-zone]");
  if (!zone) { return; }
  var input = zone.querySelector('input[type="file"]');
  var name = zone.querySelector("[data-drop-name]");
  function show() { if (name) { name.textContent = input.files.length ? input.files[0].name : ""; } }
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
  input.addEventListener("change", show);
})();
