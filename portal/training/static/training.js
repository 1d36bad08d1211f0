// The sign-in sheet's "Print" button (inline handlers are forbidden by the CSP).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});

// The session forms: until the trainer types an end, it follows the start — by the course's length
// (1 academic hour = 45 minutes) for a new session, by its own length for a session being moved — and a
// warning shows while the length differs from the course's. Without this script the server takes the
// course's length for an empty end, and warns after saving.
(function () {
  var times = document.getElementById("session-times");
  if (!times) { return; }
  var minutesByCourse = JSON.parse(times.dataset.courseMinutes);
  var course = document.querySelector("select[name=course_id]");
  var start = times.querySelector("input[name=start_time]");
  var end = times.querySelector("input[name=end_time]");
  var warning = document.getElementById("length-mismatch");
  var endTyped = false;
  var keptLength = start.value && end.value ? toMinutes(end.value) - toMinutes(start.value) : null;

  function courseMinutes() {
    var id = course ? course.value : Object.keys(minutesByCourse)[0];
    return minutesByCourse[id];
  }
  function toMinutes(value) {
    var parts = value.split(":");
    return parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }
  function toClock(minutes) {
    var hours = Math.floor(minutes / 60) % 24;
    var rest = minutes % 60;
    return (hours < 10 ? "0" : "") + hours + ":" + (rest < 10 ? "0" : "") + rest;
  }
  function update() {
    var wanted = courseMinutes();
    if (!start.value || !wanted) {
      warning.hidden = true;
      return;
    }
    if (!endTyped) {
      end.value = toClock(toMinutes(start.value) + (keptLength === null ? wanted : keptLength));
    }
    warning.hidden = !end.value || toMinutes(end.value) - toMinutes(start.value) === wanted;
  }
  end.addEventListener("input", function () {
    endTyped = Boolean(end.value);
    update();
  });
  start.addEventListener("input", update);
  if (course) {
    course.addEventListener("change", function () {
      keptLength = null;
      update();
    });
  }
  update();
})();
