// A form with data-confirm asks first (disabling a badge locks its member out); without
// JavaScript it posts straight away, and the server still requires a reason.
// A second click on a submit button sends nothing: the server also refuses duplicates by token.
// Both live in one listener so a cancelled confirmation never disables the buttons.
document.addEventListener("submit", function (event) {
  var question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  event.target.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
    window.setTimeout(function () { b.disabled = true; }, 0);
  });
});

// The booking grid's panel (a booking form, a cancel question) opens as a dialog over the grid,
// wherever on the page the slot was: it is fixed in the viewport, takes the focus, and the grid
// stays where it was. Escape or "Close" empties it and gives the focus back to the slot.
var lastSlot = null;
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("#booking-area a[hx-get]");
  if (link) { lastSlot = link; }
  var close = event.target.closest && event.target.closest("#booking-panel [data-close-panel]");
  if (close) {
    event.preventDefault();
    closePanel();
  }
});
function closePanel() {
  var panel = document.getElementById("booking-panel");
  if (panel) { panel.innerHTML = ""; }
  if (lastSlot && document.body.contains(lastSlot)) { lastSlot.focus({preventScroll: true}); }
}
document.addEventListener("keydown", function (event) {
  var panel = document.getElementById("booking-panel");
  if (event.key === "Escape" && panel && panel.children.length) { closePanel(); }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  if (target && target.id === "booking-panel") {
    var dialog = target.querySelector("[data-autofocus]");
    var field = target.querySelector("select, input:not([type=hidden]), button");
    (field || dialog || target).focus({preventScroll: true});
  }
});

// A receipt's Print button (the browser's own print works as well: the print CSS does the rest).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
