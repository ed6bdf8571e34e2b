// List pages. 1) On a wide screen the filter bar is open (on a phone it folds away).
// 2) Chained filters: a select with data-chain-parent="town" offers only the options whose
// data-parent is the value chosen in the form's select named "town". A choice that no longer
// fits is cleared. Without JavaScript every option stays offered (the server filters anyway).
(function () {
  "use strict";
  document.querySelectorAll("select[data-chain-parent]").forEach(function (child) {
    var parent = child.form && child.form.elements[child.getAttribute("data-chain-parent")];
    if (!parent) return;
    function narrow() {
      var chosen = parent.value;
      Array.prototype.forEach.call(child.options, function (option) {
        var fits = !chosen || !option.value || option.getAttribute("data-parent") === chosen;
        option.hidden = !fits;
        option.disabled = !fits;
        if (!fits && option.selected) child.value = "";
      });
    }
    parent.addEventListener("change", narrow);
    narrow();
  });
})();

(function () {
  "use strict";
  if (!window.matchMedia || !window.matchMedia("(min-width: 960px)").matches) return;
  document.querySelectorAll("details.more-filters").forEach(function (details) { details.open = true; });
})();
