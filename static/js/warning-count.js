// The 预警 link's count of open warnings, fetched after the page has loaded so that no page
// pays a query for it. The link is in the bar and, on a phone, in the 更多 menu: both get it.
// Without JavaScript (or offline) the link is shown without a count.
(function () {
  "use strict";
  var links = document.querySelectorAll("a[data-count-url]");
  if (!links.length || !window.fetch) return;
  fetch(links[0].getAttribute("data-count-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data || !data.count) return;
      // Every badge: the link's in the bar and in the 更多 menu, and the one on 更多 itself.
      Array.prototype.forEach.call(document.querySelectorAll(".nav [data-warning-count]"), function (badge) {
        badge.textContent = String(data.count);
        badge.setAttribute("aria-label", "待处理 " + data.count + " 条");
        badge.hidden = false;
      });
    })
    .catch(function () {});
})();
