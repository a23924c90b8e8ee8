/*
 * Messages above a form when nothing was created or sent: the same markup as the server's
 * templates/_problems.html and error pages. What to say comes from failures.js.
 */
import { el } from "./dom.js";
import { describeFailure } from "./failures.js";

function removeMessages(scope) {
  Array.prototype.forEach.call(scope.querySelectorAll("section.problems"), function (node) {
    node.parentNode.removeChild(node);
  });
}

/** The same markup as templates/_problems.html renders (resuming says "Nothing was sent"). */
function problemsSection(problems) {
  var count = problems.length;
  var marked = document.querySelector("[data-problems-heading]");
  var heading = marked ? marked.getAttribute("data-problems-heading") : "Nothing was created";
  var section = el("section", {className: "problems js-message", role: "alert", "aria-labelledby": "problems-title"}, [
    el("h2", {id: "problems-title",
      text: heading + ": " + count + " problem" + (count !== 1 ? "s" : "") + " to fix first"}),
    el("ul", {}, problems.map(function (problem) { return el("li", {text: String(problem)}); }))
  ]);
  return section;
}

/** An error box (title, message, optional link) in the style of the server's error pages. */
function errorSection(title, message, link) {
  var children = [el("h2", {text: title})];
  if (message) children.push(el("p", {text: message}));
  if (link) children.push(el("p", {}, [el("a", {href: link.href, className: link.button ? "button" : null, text: link.text})]));
  return el("section", {className: "problems js-message", role: "alert"}, children);
}

/** Put `section` above `anchor`, in place of any message shown before. */
export function showMessage(anchor, section) {
  removeMessages(document.querySelector("main") || document.body);
  anchor.parentNode.insertBefore(section, anchor);
  if (section.scrollIntoView) section.scrollIntoView({block: "nearest"});
}

/** Show what went wrong (see failures.js describeFailure) above `anchor`. */
export function showFailure(anchor, failure, options, backTo) {
  var message = describeFailure(failure, options, backTo, window.location.href);
  showMessage(anchor, message.problems ? problemsSection(message.problems)
    : errorSection(message.title, message.message, message.link));
}
