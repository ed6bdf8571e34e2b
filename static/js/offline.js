// Visits and declarations kept on the phone where the signal is weak or absent, sent when it
// returns (DOMAIN.md §8: phone forms keep working offline and sync later, without duplicates).
//
// Loaded on every page for logged-in users. The visit form and the cadre's declaration entry
// (offline_form.js) store an entry here when they cannot reach the server; this script sends
// pending entries to their API (entry.api: POST /api/visits/ or /api/declarations/entries/)
// on page load, on the `online` event, when the app comes back to the screen and once a
// minute while any wait. Each entry carries the form's client_uuid: the server stores a
// visit sent twice once (201 the first time, 200 with the same visit after), so a lost
// answer or two open tabs never duplicate a visit. Nothing is deleted without the server's
// 200/201 or the cadre's own tap on 删除. A visit the server answers 409 (the household changed
// meanwhile) waits for the cadre's decision (resolve()).
//
// Entries live in IndexedDB (photos as Blobs), one store keyed by client_uuid, tagged with
// the user's id so a phone shared by two cadres sends each one's visits under their own login.
(function () {
  "use strict";
  var indicator = document.getElementById("offline-pending");
  if (!indicator || !window.indexedDB || !window.fetch || !window.FormData || !window.Promise) return;
  if (window.fanpinOffline) return;

  var USER = indicator.getAttribute("data-user");
  var API = indicator.getAttribute("data-api");
  // Any answer from our own server, even an error, proves the signal reaches it.
  var PROBE = document.currentScript ? document.currentScript.src : API;
  var LABELS = {
    household: "农户", visited_on: "走访日期", visitors: "走访人员", findings: "走访情况",
    income_change: "收入变化", new_risks: "新发现风险", next_step: "下一步打算", latitude: "位置",
    longitude: "位置", photos: "照片", client_uuid: "离线提交标识", open_case: "申报监测对象",
    household_version: "走访表版本",
    source: "收到申报的渠道", declared_on: "收到申报的日期", village: "村", name: "姓名", id_number: "身份证号",
    phone: "联系电话", situation: "家庭情况", risk_types: "困难类型",
  };
  // What an entry is, in the cadre's words (entries from before declarations have no kind).
  var NOUNS = { visit: "走访记录", declaration: "申报" };
  function noun(entry) { return NOUNS[entry.kind] || NOUNS.visit; }

  // --- storage -------------------------------------------------------------------------------

  var opening = null;
  function database() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var request = indexedDB.open("fanpin-offline", 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("visits", { keyPath: "client_uuid" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  function withStore(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("visits", mode);
        var request = work(tx.objectStore("visits"));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function mine(entry) { return entry && entry.user === USER ? entry : null; }

  function all() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (list) {
      return (list || []).filter(mine).sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
    });
  }

  function get(id) {
    return withStore("readonly", function (s) { return s.get(id); }).then(mine);
  }

  function save(entry) {
    entry.user = USER;
    entry.saved_at = entry.saved_at || new Date().toISOString();
    return withStore("readwrite", function (s) { return s.put(entry); }).then(function () { return entry; });
  }

  function remove(id) {
    return withStore("readwrite", function (s) { return s.delete(id); });
  }

  // --- network -------------------------------------------------------------------------------

  function timedFetch(url, options, ms) {
    var controller = window.AbortController ? new AbortController() : null;
    if (controller) options.signal = controller.signal;
    var timer;
    var timeout = new Promise(function (resolve, reject) {
      timer = setTimeout(function () {
        if (controller) controller.abort();
        reject(new Error("timeout"));
      }, ms);
    });
    return Promise.race([fetch(url, options), timeout]).then(function (response) {
      clearTimeout(timer);
      return response;
    }, function (error) {
      clearTimeout(timer);
      throw error;
    });
  }

  function reachable() {
    if (!navigator.onLine) return Promise.resolve(false);
    var url = PROBE + (PROBE.indexOf("?") < 0 ? "?" : "&") + "probe=" + Date.now();
    return timedFetch(url, { method: "HEAD", cache: "no-store", credentials: "same-origin" }, 6000)
      .then(function () { return true; }, function () { return false; });
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(entry) {
    var body = new FormData();
    entry.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    (entry.photos || []).forEach(function (photo) { body.append("photos", photo.blob, photo.name); });
    return timedFetch(entry.api || API, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }, 60000);
  }

  // An entry saved just before the plain form post ("sending") is usually stored already:
  // look for it before uploading its photos a second time over a weak signal.
  function alreadyStored(entry) {
    if (entry.state !== "sending" || (entry.kind && entry.kind !== "visit")) return Promise.resolve(false);
    var url = API + "?page_size=50&household=" + encodeURIComponent(entry.household);
    return timedFetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }, 15000)
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (body) {
        return (body.results || []).some(function (v) { return v.client_uuid === entry.client_uuid; });
      });
  }

  function errorText(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    var parts = [];
    Object.keys(body || {}).forEach(function (key) {
      var messages = [].concat(body[key]).join(" ");
      parts.push(LABELS[key] ? LABELS[key] + "：" + messages : messages);
    });
    return parts.join("；") || "服务器拒绝了这条记录（" + status + "）。";
  }

  // The visit form on screen holds this entry itself (a plain post is under way, or the
  // server answered with the form's errors): the page, not this script, decides its fate.
  function onScreen() {
    var input = document.querySelector("form[data-offline-api] input[name=client_uuid]");
    return input ? input.value : null;
  }

  var running = null;

  // Send waiting entries one by one; stop at the first sign the network is gone again.
  // Entries the server refused (4xx) wait for the cadre unless `only` names one to retry.
  function sync(only) {
    if (running) return running;
    if (!navigator.onLine) return refresh();
    var result = { uploaded: 0, kinds: {}, refused: [], login: false };
    running = all().then(function (entries) {
      var current = onScreen();
      var todo = entries.filter(function (e) {
        if (only) return e.client_uuid === only;
        return !e.error && !(e.state === "sending" && e.client_uuid === current);
      });
      return todo.reduce(function (chain, entry) {
        return chain.then(function (stop) { return stop || upload(entry, result); });
      }, Promise.resolve(false));
    }).then(function () {
      notify(result);
    }, function () { /* storage unavailable: nothing to send */ }).then(function () {
      running = null;
      return refresh();
    }).then(function () { return result; });
    return running;
  }

  // Resolves true when syncing should stop (offline again, session gone, server trouble).
  function upload(entry, result) {
    return alreadyStored(entry).then(function (stored) {
      if (stored) return remove(entry.client_uuid).then(function () { return false; });
      return post(entry).then(function (response) {
        if (response.ok) {
          // A "sending" entry answered 200 was stored by its own form post: no news for the cadre.
          if (entry.state !== "sending" || response.status === 201) {
            result.uploaded += 1;
            result.kinds[noun(entry)] = (result.kinds[noun(entry)] || 0) + 1;
          }
          return remove(entry.client_uuid).then(function () { return false; });
        }
        return response.json().catch(function () { return {}; }).then(function (body) {
          var detail = body && typeof body.detail === "string" ? body.detail : "";
          var later = response.status >= 500 || response.status === 408 || response.status === 429
            || response.status === 401 || detail.indexOf("CSRF") === 0;
          if (later) {
            // Not the entry's fault (server busy, session expired, token renewed): try again later.
            result.login = result.login || response.status === 401;
            entry.state = "pending";
            return save(entry).then(function () { return true; });
          }
          entry.state = "pending";
          entry.error = errorText(response.status, body);
          // 409 with conflicts: the household changed on the server after the form was loaded;
          // kept for the cadre to decide (resolve() below), never overwritten on its own.
          entry.conflict = response.status === 409 && body && body.conflicts ? body : null;
          result.refused.push(entry);
          return save(entry).then(function () { return false; });
        });
      });
    }).catch(function () {
      // No answer: the signal dropped again. The entry stays for the next attempt.
      if (entry.state !== "sending") return true;
      entry.state = "pending";
      return save(entry).then(function () { return true; }, function () { return true; });
    });
  }

  // --- what the cadre sees ----------------------------------------------------------------------

  function main() { return document.querySelector("main") || document.body; }

  function message(kind, text, action) {
    // The page's own message list, not the list of waiting entries (redrawn on each refresh).
    var list = main().querySelector(".messages:not(.offline-list)");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messages";
      main().insertBefore(list, main().firstChild);
    }
    var item = document.createElement("li");
    item.className = "msg msg-" + kind;
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = text;
    if (action) {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(action);
    }
    list.appendChild(item);
    return item;
  }

  function button(text, onClick, extra) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-small" + (extra ? " " + extra : "");
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  function notify(result) {
    Object.keys(result.kinds).forEach(function (name) {
      message("success", "离线" + name + "已上传 " + result.kinds[name] + " 条。");
    });
    if (result.refused.length) {
      var first = result.refused[0];
      var same = result.refused.every(function (e) { return noun(e) === noun(first); });
      message("error", result.refused.length + " 条离线" + (same ? noun(first) : "记录") + "未能上传（" + first.label + "：" + first.error
        + "）。记录仍保存在手机上，" + (first.conflict ? "请选择以哪一方为准" : "请打开修改或删除") + "。",
        button("查看", function () { showPanel(true); }));
    }
    if (result.login) message("warning", "登录已过期，离线记录暂未上传。请重新登录，登录后自动上传。");
  }

  var toggle = indicator.querySelector("button");
  var panel = null;

  function refresh() {
    return all().then(function (entries) {
      var current = onScreen();
      var waiting = entries.filter(function (e) { return !(e.state === "sending" && e.client_uuid === current); });
      var refused = waiting.filter(function (e) { return e.error; }).length;
      indicator.hidden = waiting.length === 0;
      toggle.textContent = "待上传 " + waiting.length + (refused ? " · 需处理 " + refused : "");
      if (panel && !panel.hidden) render(waiting);
      // The visit form's "saved on the phone" box keeps its count and news current.
      document.dispatchEvent(new CustomEvent("fanpin:offline-waiting", { detail: waiting }));
      return waiting;
    }, function () { return []; });
  }

  function showPanel(open) {
    if (!panel) {
      panel = document.createElement("section");
      panel.id = "offline-panel";
      panel.className = "card card-warn offline-panel";
      panel.setAttribute("aria-label", "手机上待上传的记录");
      panel.hidden = true;
      main().insertBefore(panel, main().firstChild);
    }
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      refresh();
      panel.scrollIntoView({ block: "start" });
    }
  }

  function render(entries) {
    panel.textContent = "";
    var title = document.createElement("h2");
    title.textContent = "手机上待上传的记录";
    panel.appendChild(title);
    var note = document.createElement("p");
    note.className = "help";
    note.textContent = entries.length
      ? "有网络时自动上传，同一条记录不会重复保存。未能上传的记录请打开修改后保存，或删除。"
      : "没有等待上传的记录。";
    panel.appendChild(note);
    var list = document.createElement("ul");
    // app.css's message list: this panel opens on any page, not only the monitoring ones.
    list.className = "messages offline-list";
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      item.className = "msg";
      var head = document.createElement("strong");
      head.textContent = entry.label;
      item.appendChild(head);
      var meta = document.createElement("div");
      meta.className = "muted small";
      meta.textContent = (entry.kind === "declaration" ? "申报日期 " : "走访日期 ") + (entry.visited_on || "未填") + " · 保存于 "
        + new Date(entry.saved_at).toLocaleString("zh-CN", { hour12: false })
        + (entry.photos && entry.photos.length ? " · 照片 " + entry.photos.length + " 张" : "");
      item.appendChild(meta);
      if (entry.error) {
        var error = document.createElement("p");
        error.className = "error";
        error.textContent = "未能上传：" + entry.error;
        item.appendChild(error);
      }
      var actions = document.createElement("div");
      actions.className = "actions";
      if (entry.error) {
        // Only refused entries: one still waiting could be sent while it is open, and the
        // server would then keep the first version of that client_uuid, not the correction.
        var open = document.createElement("a");
        open.className = "btn btn-small";
        open.href = entry.form_url + "#offline=" + entry.client_uuid;
        open.textContent = "打开修改";
        actions.appendChild(open);
      }
      if (entry.conflict) {
        actions.appendChild(button("以本次走访为准", function () { resolve(entry, "mine"); }, "btn-primary"));
        actions.appendChild(button("保留现在的情况", function () { resolve(entry, "theirs"); }));
      } else {
        actions.appendChild(button("重新上传", function () { sync(entry.client_uuid); }));
      }
      actions.appendChild(button("删除", function () {
        if (window.confirm("删除后这条" + noun(entry) + "（" + entry.label + "）将无法恢复。确定删除吗？")) {
          remove(entry.client_uuid).then(refresh);
        }
      }, "btn-plain"));
      item.appendChild(actions);
      list.appendChild(item);
    });
    panel.appendChild(list);
    if (entries.length) panel.appendChild(button("立即上传", function () { sync(); }, "btn-primary"));
  }

  // The cadre's answer to a conflict: "mine" sends the visit as recorded against the household
  // as it is now; "theirs" first sets the conflicting items to what the server has.
  function resolve(entry, choice) {
    var conflict = entry.conflict;
    var theirs = {};
    conflict.conflicts.forEach(function (c) { theirs[c.field] = c.server ? "true" : "false"; });
    entry.fields = entry.fields.filter(function (pair) {
      return pair[0] !== "household_version" && !(choice === "theirs" && theirs[pair[0]] !== undefined);
    });
    if (choice === "theirs") Object.keys(theirs).forEach(function (name) { entry.fields.push([name, theirs[name]]); });
    entry.fields.push(["household_version", conflict.household_version]);
    entry.error = "";
    entry.conflict = null;
    return save(entry).then(function () { return sync(entry.client_uuid); });
  }

  toggle.addEventListener("click", function () { showPanel(!panel || panel.hidden); });

  window.fanpinOffline = {
    save: save, get: get, all: all, remove: remove, sync: sync, refresh: refresh, reachable: reachable,
  };

  window.addEventListener("online", function () { sync(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") sync();
  });
  setInterval(function () {
    if (!indicator.hidden && navigator.onLine) sync();
  }, 60000);
  // After visit.js has looked at the form on screen (deferred scripts run before this event).
  document.addEventListener("DOMContentLoaded", function () { sync(); });
})();
