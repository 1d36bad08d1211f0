// The sign-in sheet's "Print" button (inline handlers are forbidden by the CSP).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
