// The 预警 link's count of open warnings, fetched after the page has loaded so that no page
// pays a query for it. Without JavaScript (or offline) the link is shown without a count.
(function () {
  "use strict";
  var link = document.getElementById("nav-warnings");
  if (!link || !window.fetch) return;
  var badge = link.querySelector("[data-warning-count]");
  fetch(link.getAttribute("data-count-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data || !data.count) return;
      badge.textContent = String(data.count);
      badge.setAttribute("aria-label", "待处理 " + data.count + " 条");
      badge.hidden = false;
    })
    .catch(function () {});
})();
