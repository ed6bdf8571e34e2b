// Screening upload page: while the file is queued or being processed, ask the server how far
// it is (rows read, valid, matched) and move the progress bar; once finished, reload to show
// the summary and the bad rows. Without JavaScript the page refreshes itself.
(function () {
  "use strict";
  var box = document.getElementById("screening-upload");
  if (!box || box.dataset.finished === "true") return;
  var url = box.dataset.statusUrl;
  var bar = document.getElementById("upload-bar");
  var text = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var delay = 1500;

  function show(data) {
    if (data.finished) {
      window.location.reload();
      return false;
    }
    if (bar) bar.value = data.progress;
    if (text) text.textContent = data.progress_text;
    var badge = status && status.querySelector(".badge");
    if (badge) {
      badge.textContent = data.status_label;
      badge.className = "badge " + (data.status === "running" ? "badge-warn" : "badge-muted");
    }
    return true;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        delay = 1500;
        if (show(data)) window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
