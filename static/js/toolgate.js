// A second click on a submit button sends nothing: the server also refuses duplicates by token.
document.addEventListener("submit", function (event) {
  event.target.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
    window.setTimeout(function () { b.disabled = true; }, 0);
  });
});
