// The installable field app on every page (issue 12 point 6): registers the service worker
// (static/js/sw.js, served at /sw.js) for a signed-in user, empties the pages it keeps when the
// cadre logs out, and says so when a page on screen is the copy kept on this phone.
(function () {
  "use strict";
  var script = document.currentScript;
  var user = script ? script.getAttribute("data-user") || "" : "";
  var PAGES = "fanpin-pages";
  var worker = "serviceWorker" in navigator ? navigator.serviceWorker : null;

  function tell(message) {
    if (!worker || !worker.controller) return Promise.resolve();
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      var timer = setTimeout(resolve, 1500);
      channel.port1.onmessage = function () { clearTimeout(timer); resolve(); };
      worker.controller.postMessage(message, [channel.port2]);
    });
  }

  if (worker) {
    if (user) {
      worker.register("/sw.js", { scope: "/" }).catch(function () { /* plain http: no offline app */ });
    }
    // Who is signed in on this page: pages kept for anyone else are dropped (the server's
    // X-Fanpin-User header says the same to the worker for pages it fetches).
    // (Not from a kept copy, nor from the offline page, which is the same for everyone.)
    var live = script && script.hasAttribute("data-user") && !document.documentElement.hasAttribute("data-offline-copy");
    if (live) tell({ type: "user", user: user });
  }

  // Logging out: the kept pages go first, then the logout form is sent as it would be.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-logout]") || form.hasAttribute("data-cleared")) return;
    event.preventDefault();
    var clearing = window.caches ? caches.delete(PAGES).catch(function () {}) : Promise.resolve();
    Promise.all([clearing, tell({ type: "logout" })]).then(function () {
      form.setAttribute("data-cleared", "");
      HTMLFormElement.prototype.submit.call(form);
    });
  }, true);

  function main() { return document.querySelector("main") || document.body; }

  // A kept copy shown without a signal: say when it was saved; its old messages are not news.
  var saved = document.documentElement.getAttribute("data-offline-copy");
  if (saved !== null) {
    document.addEventListener("DOMContentLoaded", function () {
      Array.prototype.forEach.call(document.querySelectorAll("main > .messages"), function (list) {
        list.remove();
      });
      var note = document.createElement("p");
      note.className = "msg msg-warning offline-copy";
      note.setAttribute("role", "status");
      var when = saved ? new Date(saved).toLocaleString("zh-CN", { hour12: false }) : "";
      note.textContent = "现在没有网络：这是本手机" + (when ? "于 " + when + " " : "") + "保存的页面，可能不是最新情况。"
        + "填写的走访记录会先保存在手机上，有网络时自动上传。";
      main().insertBefore(note, main().firstChild);
    });
  }

  // The offline page: list the pages kept on this phone (the signed-in cadre's own).
  var list = document.getElementById("offline-saved-pages");
  if (list && window.caches) {
    caches.open(PAGES).then(function (cache) { return cache.keys(); }).then(function (requests) {
      return Promise.all(requests.map(function (request) {
        return caches.match(request, { cacheName: PAGES }).then(function (response) {
          var title = response && response.headers.get("X-Fanpin-Title");
          return { url: request.url, title: title ? decodeURIComponent(title) : request.url };
        });
      }));
    }).then(function (pages) {
      if (!pages.length) return;
      list.textContent = "";
      pages.sort(function (a, b) { return a.title < b.title ? -1 : 1; }).forEach(function (page) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = page.url;
        link.textContent = page.title.replace(/ · 防止返贫监测帮扶$/, "");
        item.appendChild(link);
        list.appendChild(item);
      });
    }).catch(function () {});
  }
})();
