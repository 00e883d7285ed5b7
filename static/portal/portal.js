// Small progressive enhancements; everything works without JavaScript too.
document.addEventListener("change", function (event) {
  if (event.target.matches("[data-autosubmit]")) { event.target.form.submit(); }
});
document.addEventListener("click", function (event) {
  // Close the organization switcher when clicking elsewhere.
  var switcher = document.querySelector("[data-switcher]");
  if (switcher && !switcher.contains(event.target)) {
    var results = document.getElementById("org-switcher-results");
    if (results) { results.innerHTML = ""; }
  }
});
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
