// Import job page: while the job is queued or running, ask the server how far it is and
// move the progress bar; once it has finished, reload to show the report. Without
// JavaScript the page refreshes itself (<noscript> meta refresh).
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || box.dataset.finished === "true") return;
  var url = box.dataset.statusUrl;
  var bar = document.getElementById("import-job-bar");
  var text = document.getElementById("import-job-progress");
  var status = document.getElementById("import-job-status");
  var delay = 1500;

  function show(data) {
    if (data.finished) {
      window.location.reload();
      return false;
    }
    if (bar) {
      if (data.percent === null) bar.removeAttribute("value");
      else bar.value = data.percent;
    }
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
        // A dropped connection on a village network: try again, less often.
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
