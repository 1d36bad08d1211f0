// Day view: pick the first and the last free slot of a range on one workstation, then go to the
// booking form with both. Without JavaScript every free cell still links to the form.
(function () {
  var grid = document.getElementById("schedule");
  if (!grid || grid.dataset.view !== "day") { return; }
  var first = null;
  function param(link, name) { return new URL(link.href, window.location.href).searchParams.get(name); }
  grid.addEventListener("click", function (event) {
    var link = event.target.closest("td.free > a, td.partial > a");
    if (!link) { return; }
    var row = link.closest("tr");
    if (first && first.row === row && param(link, "s") >= param(first.link, "s")) {
      event.preventDefault();
      var url = new URL(link.href, window.location.href);
      url.searchParams.set("s", param(first.link, "s"));
      window.location.assign(url.toString());
      return;
    }
    event.preventDefault();
    if (first) { first.link.classList.remove("selected"); }
    first = { row: row, link: link };
    link.classList.add("selected");
  });
})();
