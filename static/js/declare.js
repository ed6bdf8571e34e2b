// The declaration form's chained selects: choosing a town narrows the village list to its
// villages. Without JavaScript the village list, grouped by town, is enough on its own.
(function () {
  "use strict";
  var town = document.getElementById("id_town");
  var village = document.getElementById("id_village");
  if (!town || !village) { return; }

  function narrow() {
    var chosen = town.value;
    var groups = village.querySelectorAll("optgroup");
    for (var i = 0; i < groups.length; i++) {
      var show = !chosen || groups[i].getAttribute("data-town") === chosen;
      groups[i].hidden = !show;
      groups[i].disabled = !show;
    }
    var selected = village.options[village.selectedIndex];
    if (chosen && selected && selected.value && selected.getAttribute("data-town") !== chosen) {
      village.value = "";
    }
  }

  // A village chosen first (or preselected by the poster's link) sets its town.
  function fromVillage() {
    var selected = village.options[village.selectedIndex];
    if (selected && selected.value) {
      town.value = selected.getAttribute("data-town");
      narrow();
    }
  }

  town.addEventListener("change", narrow);
  village.addEventListener("change", fromVillage);
  fromVillage();
})();
