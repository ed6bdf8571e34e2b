// A field form that also saves where the signal is weak or absent (DOMAIN.md §8): the visit
// form and the cadre's declaration entry (issue 12 point 6). The form says what it is:
//   <form data-offline-api="/api/…/" data-offline-kind="visit|declaration" data-label="…"
//         data-date-field="visited_on" [data-household="…"]> with a client_uuid hidden input,
// and the page holds the boxes #offline-saved, #offline-problem and #offline-restored.
// With offline.js available, an entry saved without a signal is kept on the phone and
// offline.js sends it to the form's API when the signal returns. With a signal the form is
// still posted the plain way (the server's own answer, errors and redirect), after a copy is
// put on the phone in case that post is lost on the way. Without JavaScript the form works too.
(function () {
  "use strict";
  var form = document.querySelector("form[data-offline-api]");
  if (!form) return;

  // One id per entry so a double tap or an offline form sent twice is saved once.
  // The server fills it when it renders the page; this covers a form without one.
  var uuid = form.querySelector("input[name=client_uuid]");
  // A copy kept by the service worker (static/js/sw.js) is the same page each time it opens:
  // each opening is a new entry, so it takes a new id, and the form's CSRF token, saved with
  // the page, may be older than the cookie (the cookie's own value is accepted too).
  var keptCopy = document.documentElement.hasAttribute("data-offline-copy");
  if (uuid && (!uuid.value || keptCopy)) uuid.value = newUuid();
  if (keptCopy) {
    var cookie = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (cookie && token) token.value = decodeURIComponent(cookie[1]);
  }

  var submit = form.querySelector("[type=submit]");
  var submitText = submit ? submit.textContent : "";
  var noun = form.getAttribute("data-offline-kind") === "declaration" ? "申报" : "走访记录";
  var offline = window.fanpinOffline;
  if (!offline) {
    // No offline storage on this phone: the plain form post, guarded against a double tap.
    form.addEventListener("submit", function () {
      if (submit) setTimeout(function () { submit.disabled = true; submit.textContent = "正在保存…"; }, 0);
    });
    return;
  }

  var saved = document.getElementById("offline-saved");
  var problem = document.getElementById("offline-problem");
  var restoredNote = document.getElementById("offline-restored");

  // The server answered a post with this form's errors: the copy kept for a lost post is not
  // needed (the typing is on screen, as without a phone copy).
  if (form.querySelector(".has-error, .errors:not(#offline-problem)")) {
    offline.get(uuid.value).then(function (entry) {
      if (entry && entry.state === "sending") return offline.remove(entry.client_uuid);
    }).catch(function () {});
  }

  // 打开修改 from the list of waiting entries: put the kept entry back into the form.
  // (A hash change alone: the link was tapped on this very page, after saving without a signal.)
  function restoreWanted() {
    var wanted = /#offline=([0-9a-f-]+)/i.exec(location.hash);
    if (!wanted) return;
    offline.get(wanted[1]).then(function (entry) {
      if (entry) restore(entry);
    }).catch(function () {});
  }
  restoreWanted();
  window.addEventListener("hashchange", restoreWanted);

  var keptId = null;
  document.addEventListener("fanpin:offline-waiting", function (event) {
    if (saved.hidden) return;
    saved.querySelector("[data-count]").textContent = String(event.detail.length);
    var stillHere = event.detail.some(function (e) { return e.client_uuid === keptId; });
    if (!stillHere) saved.querySelector("h2").textContent = "这次" + noun + "已上传";
  });

  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    var missing = missingRequired();
    problem.hidden = true;
    if (missing.length) {
      say(problem, "请先填写：" + missing.join("、") + "。");
      return;
    }
    busy = true;
    setBusy("正在保存…");
    var entry = collect();
    offline.reachable().then(function (online) {
      if (!online) return keep(entry);
      // Copy first, then the plain post: if its answer never arrives, offline.js finds the
      // copy on the next page and sends it; the server keeps one visit per client_uuid.
      entry.state = "sending";
      return offline.save(entry).catch(function () {}).then(function () {
        HTMLFormElement.prototype.submit.call(form);
      });
    });
  });

  function keep(entry) {
    entry.state = "pending";
    return offline.save(entry).catch(function () {
      // Some phones cannot keep files in their storage: keep the visit without its photos.
      var photos = entry.photos.length;
      entry.photos = [];
      entry.photos_left_out = photos;
      return offline.save(entry);
    }).then(function () {
      return offline.refresh();
    }).then(function (waiting) {
      keptId = entry.client_uuid;
      form.hidden = true;
      saved.hidden = false;
      saved.querySelector("h2").textContent = "已保存在手机上，有网络时自动上传";
      saved.querySelector("[data-count]").textContent = String(waiting.length);
      var photosNote = saved.querySelector("[data-photos]");
      photosNote.hidden = !entry.photos_left_out;
      saved.scrollIntoView({ block: "start" });
      saved.focus();
    }, function () {
      busy = false;
      setBusy(null);
      say(problem, "没有网络，而且这部手机无法保存离线记录。请不要关闭本页，有网络时再点“" + submitText + "”。");
    });
  }

  function collect() {
    var household = form.getAttribute("data-household");
    var fields = household ? [["household", household]] : [];
    var dateField = form.getAttribute("data-date-field");
    var day = "";
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken") return;
      if (el.type === "file" || el.type === "submit" || el.type === "button") return;
      if (el.type === "checkbox" && el.value === "on") {
        // A yes/no box: sent either way, since the API reads a missing item as "unchanged".
        fields.push([el.name, el.checked ? "true" : "false"]);
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) fields.push([el.name, el.value]);
      } else if (el.value !== "") {
        fields.push([el.name, el.value]);
      }
      if (el.name === dateField) day = el.value;
    });
    var photos = [];
    var input = form.querySelector("input[type=file][name=photos]");
    Array.prototype.forEach.call(input ? input.files : [], function (file) {
      photos.push({ name: file.name, type: file.type, blob: file });
    });
    var label = form.getAttribute("data-label") || "";
    var named = form.querySelector("[name=name]");
    if (!label && named) label = "申报 · " + (named.value || "未填姓名");
    return {
      client_uuid: uuid.value, household: household || "", kind: form.getAttribute("data-offline-kind"),
      api: form.getAttribute("data-offline-api"), label: label, form_url: location.pathname,
      visited_on: day, fields: fields, photos: photos, error: "",
    };
  }

  function restore(entry) {
    var values = {};
    entry.fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "file") return;
      var given = values[el.name] || [];
      if (el.type === "checkbox" && el.value === "on") el.checked = given[0] === "true";
      else if (el.type === "checkbox" || el.type === "radio") el.checked = given.indexOf(el.value) >= 0;
      else if (el.type !== "submit" && el.type !== "button") el.value = given.length ? given[0] : "";
    });
    uuid.value = entry.client_uuid;
    form.hidden = false;
    saved.hidden = true;
    busy = false;
    setBusy(null);
    var input = form.querySelector("input[type=file][name=photos]");
    if (input && entry.photos && entry.photos.length && window.DataTransfer) {
      try {
        var files = new DataTransfer();
        entry.photos.forEach(function (p) { files.items.add(new File([p.blob], p.name, { type: p.type })); });
        input.files = files.files;
      } catch (e) { /* this browser cannot refill a file field; the note below says so */ }
    }
    var text = "这是保存在手机上的" + noun + "（保存于 "
      + new Date(entry.saved_at).toLocaleString("zh-CN", { hour12: false }) + "）。";
    if (entry.error) text += "上传时服务器答复：" + entry.error + " ";
    text += "请核对修改后点“" + submitText + "”。";
    if (entry.photos && entry.photos.length && !(input && input.files.length)) {
      text += "保存在手机上的 " + entry.photos.length + " 张照片无法放回表单，请重新选择照片。";
    }
    say(restoredNote, text);
  }

  function missingRequired() {
    var names = [];
    Array.prototype.forEach.call(form.querySelectorAll("[required]"), function (el) {
      if (el.value.trim() === "") {
        var label = form.querySelector("label[for='" + el.id + "']");
        names.push(label ? label.firstChild.textContent.trim() : el.name);
      }
    });
    return names;
  }

  function say(box, text) {
    box.querySelector("p").textContent = text;
    box.hidden = false;
  }

  function setBusy(text) {
    if (!submit) return;
    submit.disabled = !!text;
    submit.textContent = text || submitText;
  }

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    // Plain http on a village network has no randomUUID: a version-4 id from getRandomValues.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
})();
