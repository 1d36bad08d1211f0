// Room computers are shared: after the idle time the server has ended the
// session anyway, so reload to show the sign-in page instead of stale data.
(function () {
  var minutes = parseInt(document.body.dataset.idleMinutes, 10);
  if (!minutes) { return; }
  var timer;
  function arm() {
    clearTimeout(timer);
    timer = setTimeout(function () { window.location.reload(); }, minutes * 60000 + 5000);
  }
  ["click", "keydown", "touchstart"].forEach(function (name) { document.addEventListener(name, arm); });
  arm();
})();

// The navbar: on narrow screens its links fold behind the menu button; an open menu closes with
// Escape (focus back on its label), a click elsewhere, or when another one opens.
(function () {
  var toggle = document.getElementById("main-nav-toggle");
  var links = document.getElementById("main-nav");
  if (toggle && links) {
    links.classList.add("collapse");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = links.classList.toggle("show");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  var menus = Array.prototype.slice.call(document.querySelectorAll("details.nav-menu"));
  function closeOthers(keep) {
    menus.forEach(function (menu) { if (menu !== keep) { menu.open = false; } });
  }
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () { if (menu.open) { closeOthers(menu); } });
  });
  document.addEventListener("click", function (event) {
    closeOthers(menus.filter(function (menu) { return menu.contains(event.target); })[0]);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    menus.forEach(function (menu) {
      if (menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
})();
