// Day view: pick the first and the last free slot of a range on one workstation, then go to the
// booking form with both. Without JavaScript every free cell still links to the form.
(function () {
  var grid = document.getElementById("schedule");
  if (!grid || grid.dataset.view !== "day") { return; }
  var first = null;
  grid.addEventListener("click", function (event) {
    var link = event.target.closest("a.cell-link[data-start]");
    if (!link) { return; }
    var row = link.closest("tr");
    if (first && first.row === row && link.dataset.start >= first.link.dataset.start) {
      event.preventDefault();
      var url = new URL(link.href, window.location.href);
      url.searchParams.set("start", first.link.dataset.start);
      url.searchParams.set("end", link.dataset.end);
      window.location.assign(url.toString());
      return;
    }
    event.preventDefault();
    if (first) { first.link.classList.remove("selected"); }
    first = { row: row, link: link };
    link.classList.add("selected");
  });
})();
