// Print buttons (data-print): no inline handlers, so the pages run under a CSP without inline script.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
