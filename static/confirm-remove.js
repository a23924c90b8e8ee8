/*
 * Removing a node asks first. Without JavaScript, a node's remove form opens the confirmation page
 * (GET …/nodes/remove); with it, the same question in the page's <dialog id="remove-dialog">, whose
 * own form makes the real POST (with the CSRF token). Cancel, Escape or a click outside keeps the node.
 */

/** The page's remove dialog, asking about whichever node's remove form was submitted. */
class RemoveDialog {
  constructor(dialog) {
    this.dialog = dialog;
    this.form = dialog.querySelector("form");
    this.what = dialog.querySelector(".remove-what");
    this.cancel = dialog.querySelector("[data-cancel]");
    this.opener = null;
  }

  /** Ask about the node of `asking` (a form.remove-node), pressed through `submitter`. */
  ask(asking, submitter) {
    this.opener = submitter || asking.querySelector("button");
    this.form.elements.place.value = asking.elements.place.value;
    this.form.elements.expect.value = asking.elements.expect.value;
    this.what.textContent = asking.getAttribute("data-confirm") || "this node";
    this.dialog.showModal();
    this.cancel.focus();  // the safe choice first
  }

  listen() {
    document.addEventListener("submit", (event) => {
      const asking = event.target;
      if (!asking.classList || !asking.classList.contains("remove-node")) return;
      event.preventDefault();
      this.ask(asking, event.submitter);
    });
    this.cancel.addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.dialog.close();  // a click on the backdrop
    });
    this.dialog.addEventListener("close", () => {
      if (this.opener && document.contains(this.opener)) this.opener.focus();
    });
    this.dialog.setAttribute("data-ready", "");  // removing now asks here
  }
}

function init() {
  const dialog = document.getElementById("remove-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;  // the confirmation page does the job
  new RemoveDialog(dialog).listen();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
