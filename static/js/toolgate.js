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
