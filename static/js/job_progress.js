// Progress of a background job (registry import, screening upload, ledger export): while the
// job is queued or running, ask the server how far it is and move the progress bar; once it
// has finished, reload to show the result. Without JavaScript the page refreshes itself
// (<noscript> meta refresh).
//
// The page marks the job's box with data-status-url (JSON: finished, percent or progress,
// progress_text, status, status_label), data-finished, and the ids of its parts in
// data-bar, data-text and data-status.
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url][data-finished]");
  if (!box || box.dataset.finished === "true") return;
  var url = box.dataset.statusUrl;
  var bar = box.dataset.bar && document.getElementById(box.dataset.bar);
  var text = box.dataset.text && document.getElementById(box.dataset.text);
  var status = box.dataset.status && document.getElementById(box.dataset.status);
  var delay = 1500;

  function show(data) {
    if (data.finished) {
      window.location.reload();
      return false;
    }
    var percent = data.percent !== undefined ? data.percent : data.progress;
    if (bar) {
      // null: the length is not known yet (the file is still being read).
      if (percent === null || percent === undefined) bar.removeAttribute("value");
      else bar.value = percent;
    }
    if (text && data.progress_text !== undefined) text.textContent = data.progress_text;
    var badge = status && status.querySelector(".badge");
    if (badge && data.status_label) {
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
        // A dropped connection on a village network: try again, less often.
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
