// The visit form's location button. Location is evidence the cadre may add, never a
// requirement (DOMAIN.md §8). Saving without a signal is static/js/offline_form.js.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;

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

})();
