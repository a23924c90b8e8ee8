/*
 * Removing a node asks first. Without JavaScript, a node's remove form opens the confirmation page
 * (GET …/nodes/remove); with it, the same question in the page's <dialog id="remove-dialog">, whose
 * own form makes the real POST (with the CSRF token). Cancel, Escape or a click outside keeps the node.
 */

function init() {
  var dialog = document.getElementById("remove-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;  // the confirmation page does the job
  var form = dialog.querySelector("form");
  var what = dialog.querySelector(".remove-what");
  var cancel = dialog.querySelector("[data-cancel]");
  var opener = null;

  document.addEventListener("submit", function (event) {
    var asking = event.target;
    if (!asking.classList || !asking.classList.contains("remove-node")) return;
    event.preventDefault();
    opener = event.submitter || asking.querySelector("button");
    form.elements.place.value = asking.elements.place.value;
    form.elements.expect.value = asking.elements.expect.value;
    what.textContent = asking.getAttribute("data-confirm") || "this node";
    dialog.showModal();
    cancel.focus();  // the safe choice first
  });

  cancel.addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog) dialog.close();  // a click on the backdrop
  });
  dialog.addEventListener("close", function () {
    if (opener && document.contains(opener)) opener.focus();
  });
  dialog.setAttribute("data-ready", "");  // removing now asks here
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
