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
