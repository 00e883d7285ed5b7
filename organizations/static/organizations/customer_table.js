// The customer table (issue 16): "select all on this page" and the count of selected rows.
// Without JavaScript every row's checkbox still works; only the shortcut is missing.
(function () {
  "use strict";
  document.querySelectorAll(".customer-bulk-form").forEach(function (form) {
    var all = form.querySelector("[data-select-all]");
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="customers"]'));
    var counter = form.querySelector(".bulk-selected");
    function update() {
      var selected = boxes.filter(function (box) { return box.checked; }).length;
      if (all) {
        all.checked = selected > 0 && selected === boxes.length;
        all.indeterminate = selected > 0 && selected < boxes.length;
      }
      if (counter) {
        counter.textContent = selected ? selected + " " + counter.getAttribute("data-selected-text") : "";
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  });
})();
