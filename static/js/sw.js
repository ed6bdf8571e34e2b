// The field app's service worker (issue 12 point 6; DOMAIN.md §8: phone forms keep working
// where the signal is weak or absent). Served by fanpin.pwa at /sw.js (scope /), which puts
// two lines in front of this file: FANPIN_VERSION (a hash of this file and of every file it
// precaches, so any change installs a new worker and drops the old caches) and
// FANPIN_PRECACHE (the app's own CSS, JS, icons and the /offline/ page).
//
// What it keeps, in Cache Storage on this phone only:
// - "fanpin-static-<version>": the precached files, answered from the cache first.
// - "fanpin-pages": the pages the signed-in cadre has opened that a visit or a declaration
//   needs in the field (household page, visit form and list, inbox, case page, declaration
//   entry: PAGES below), refreshed from the network each time they are opened with a signal,
//   answered from here when there is none or the signal is too weak to answer in time.
//   These pages carry personal data and are `Cache-Control: no-store` for every HTTP cache
//   (issue 14): a shared proxy or the browser's disk cache keeps nothing. Keeping the signed-in
//   cadre's own opened pages here is a deliberate exception, documented in the README: it is
//   what makes the forms work offline. It is emptied when the cadre logs out, when any page
//   is shown signed out (the login page, an expired session) and when another user signs in:
//   every page the server answers names its user in a header (X-Fanpin-User), and
//   static/js/app.js tells this worker who is signed in and when the cadre logs out.
// Nothing else is cached: API answers, other pages, form posts and HEAD probes go to the
// network untouched (the queue of offline visits lives in IndexedDB, static/js/offline.js).
/* global FANPIN_VERSION, FANPIN_PRECACHE */
"use strict";

var STATIC = "fanpin-static-" + FANPIN_VERSION;
var PAGES = "fanpin-pages";
var STATE = "fanpin-state";
var SAVED_AT = "X-Fanpin-Saved-At";
var TITLE = "X-Fanpin-Title";
// Paths (no query string) whose pages are kept for offline use.
var KEPT = [
  /^\/inbox\/$/,
  /^\/my-assistance\/$/,
  /^\/households\/\d+\/$/,
  /^\/visits\/\d+\/$/,
  /^\/visits\/\d+\/new\/$/,
  /^\/cases\/\d+\/$/,
  /^\/declarations\/new\/$/,
];
// How long a navigation waits for the network before answering from the kept copy.
var PATIENCE_MS = 7000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (cache) {
    return cache.addAll(FANPIN_PRECACHE.map(function (url) {
      // The offline page is the same for everyone: fetched without the cadre's cookies.
      return new Request(url, { credentials: url === "/offline/" ? "omit" : "same-origin", cache: "no-store" });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("fanpin-static-") === 0 && name !== STATIC;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// --- who is signed in ---------------------------------------------------------------------------

function storedUser() {
  return caches.open(STATE).then(function (cache) { return cache.match("/__fanpin/user"); })
    .then(function (response) { return response ? response.text() : ""; });
}

function forgetPages() {
  return caches.delete(PAGES);
}

// A page says who is signed in ("" when nobody): pages kept for anyone else are deleted.
function signedIn(user) {
  return storedUser().then(function (before) {
    var done = before === user ? Promise.resolve() : forgetPages();
    return done.then(function () {
      return caches.open(STATE).then(function (cache) {
        return cache.put("/__fanpin/user", new Response(user));
      });
    });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var work;
  if (data.type === "user") work = signedIn(String(data.user || ""));
  else if (data.type === "logout") work = forgetPages().then(function () { return signedIn(""); });
  else return;
  event.waitUntil(work.then(function () {
    if (event.ports && event.ports[0]) event.ports[0].postMessage({ done: true });
  }));
});

// --- answering requests ---------------------------------------------------------------------------

function kept(url) {
  return url.origin === self.location.origin && !url.search && KEPT.some(function (re) { return re.test(url.pathname); });
}

function isPage(response) {
  return response.type === "basic" && (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}

// Every page the server answers says who it was made for (fanpin.middleware: X-Fanpin-User,
// absent when nobody is signed in): the pages kept for anyone else go before this one is kept.
function noteUser(response) {
  if (!isPage(response)) return Promise.resolve();
  return signedIn(response.headers.get("X-Fanpin-User") || "");
}

function keep(request, response) {
  // Only a complete page of a signed-in cadre: not a redirect (to the login page), not an error.
  if (!response.ok || response.redirected || !isPage(response)) return Promise.resolve();
  var user = response.headers.get("X-Fanpin-User");
  if (!user) return Promise.resolve();
  return storedUser().then(function (current) {
    if (current !== user) return;
    return response.clone().text().then(function (html) {
      var title = /<title>([^<]*)<\/title>/.exec(html);
      var headers = new Headers(response.headers);
      headers.set(SAVED_AT, new Date().toISOString());
      headers.set(TITLE, encodeURIComponent(title ? title[1].trim() : request.url));
      return caches.open(PAGES).then(function (cache) {
        return cache.put(request.url, new Response(html, { status: 200, headers: headers }));
      });
    });
  });
}

// The kept copy, marked so the page's script can say it is a saved copy (and the visit form
// takes a fresh client id each time it is opened this way).
function savedCopy(url) {
  return caches.open(PAGES).then(function (cache) { return cache.match(url); }).then(function (response) {
    if (!response) return null;
    var saved = response.headers.get(SAVED_AT) || "";
    return response.text().then(function (html) {
      html = html.replace("<html ", '<html data-offline-copy="' + saved + '" ');
      return new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}

function offlinePage() {
  return caches.match("/offline/", { cacheName: STATIC });
}

function navigate(event) {
  var url = new URL(event.request.url);
  var network = fetch(event.request).then(function (response) {
    return noteUser(response).catch(function () {}).then(function () { return response; });
  });
  if (!kept(url)) {
    return network.catch(function () { return offlinePage(); });
  }
  var stored = network.then(function (response) {
    return keep(event.request, response).catch(function () {}).then(function () { return response; });
  });
  event.waitUntil(stored.catch(function () {}));
  // A weak signal may take minutes to fail: after PATIENCE_MS the kept copy (if any) is shown,
  // while the network answer still refreshes it for next time.
  var patience = new Promise(function (resolve) {
    setTimeout(function () { resolve(null); }, PATIENCE_MS);
  }).then(function () { return savedCopy(url.href); });
  var fromNetwork = stored.catch(function () {
    return savedCopy(url.href).then(function (copy) { return copy || offlinePage(); });
  });
  return Promise.race([fromNetwork, patience.then(function (copy) { return copy || fromNetwork; })]);
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(event));
    return;
  }
  if (FANPIN_PRECACHE.indexOf(url.pathname) >= 0 && !url.search) {
    event.respondWith(caches.match(url.pathname, { cacheName: STATIC }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
