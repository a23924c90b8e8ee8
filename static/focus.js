/*
 * Where focus goes when a page opens after a submission: to the problem list when the page has one
 * (section.problems), else to the element marked data-focus-on-load (the result heading, the
 * question of a confirmation page). A page opened at an #anchor, or where focus already moved, is left
 * alone. Loaded by every page (base.html); without JavaScript the skip link leads to the same place.
 */

export function focusTarget(root) {
  return root.querySelector("section.problems") || root.querySelector("[data-focus-on-load]");
}

function init() {
  if (window.location.hash) return;
  if (document.activeElement && document.activeElement !== document.body) return;
  const target = focusTarget(document.querySelector("main") || document.body);
  if (!target) return;
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
