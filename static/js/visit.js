// Visit form helpers. Everything here is optional: the form works without JavaScript,
// and location is evidence the cadre may add, never a requirement (DOMAIN.md §8).
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;

  // One id per visit so a double tap or an offline form sent twice is saved once.
  // The server fills it when it renders the page; this covers a form without one.
  var uuid = form.querySelector("input[name=client_uuid]");
  if (uuid && !uuid.value && window.crypto && typeof window.crypto.randomUUID === "function") {
    uuid.value = window.crypto.randomUUID();
  }

  var button = document.getElementById("geo-button");
  var status = document.getElementById("geo-status");
  var lat = form.querySelector("input[name=latitude]");
  var lng = form.querySelector("input[name=longitude]");
  if (button && lat && lng && navigator.geolocation) {
    button.hidden = false;
    if (lat.value && lng.value) status.textContent = "已记录位置：" + lat.value + ", " + lng.value;
    button.addEventListener("click", function () {
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lng.value = pos.coords.longitude.toFixed(6);
        status.textContent = "已记录位置：" + lat.value + ", " + lng.value;
      }, function () {
        status.textContent = "无法获取位置，可不填，直接保存。";
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // Keep the button from sending twice while the first upload is still going.
  form.addEventListener("submit", function () {
    var submit = document.getElementById("visit-submit");
    if (submit) {
      setTimeout(function () { submit.disabled = true; submit.textContent = "正在保存…"; }, 0);
    }
  });
})();
