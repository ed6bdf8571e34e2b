// A form sent back with errors: focus the first field in error (its message is beside it), or
// the box of errors when none belongs to a field, so a phone user lands where to correct.
(function () {
  "use strict";
  var field = document.querySelector(
    ".has-error input:not([type=hidden]), .has-error select, .has-error textarea"
  );
  if (field) {
    field.focus();
    if (field.scrollIntoView) field.scrollIntoView({ block: "center" });
    return;
  }
  var box = document.querySelector("form .errors[role=alert]");
  if (box) {
    box.tabIndex = -1;
    box.focus();
  }
})();
