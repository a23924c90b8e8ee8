/*
 * Messages above a form when nothing was created or sent: the same markup as the server's
 * templates/_problems.html and error pages. What to say comes from failures.js.
 */
import { el } from "./dom.js";
import { describeFailure } from "./failures.js";

/** Remove the messages shown over the forms (once an upload starts, they are out of date). */
export function clearMessages() {
  removeMessages(document.querySelector("main") || document.body);
}

function removeMessages(scope) {
  for (const node of scope.querySelectorAll("section.problems")) node.remove();
}

/** The same markup as templates/_problems.html renders (resuming says "Nothing was sent"). */
function problemsSection(problems) {
  const count = problems.length;
  const marked = document.querySelector("[data-problems-heading]");
  const heading = marked ? marked.getAttribute("data-problems-heading") : "Nothing was created";
  return el("section", {className: "problems js-message", role: "alert", "aria-labelledby": "problems-title"}, [
    el("h2", {id: "problems-title",
      text: heading + ": " + count + " problem" + (count !== 1 ? "s" : "") + " to fix first"}),
    el("ul", {}, problems.map((problem) => el("li", {text: String(problem)}))),
  ]);
}

/** An error box (title, message, optional link) in the style of the server's error pages. */
function errorSection(title, message, link) {
  const children = [el("h2", {text: title})];
  if (message) children.push(el("p", {text: message}));
  if (link) children.push(el("p", {}, [el("a", {href: link.href, className: link.button ? "button" : null, text: link.text})]));
  return el("section", {className: "problems js-message", role: "alert"}, children);
}

/**
 * A taken name: the message, a field to choose another name (the portal's offer filled in) whose
 * button calls onRename(name), and the way to the existing datapack.
 */
function nameTakenSection(message, onRename) {
  const input = el("input", {type: "text", id: "new-name", required: true, maxlength: "200", autocomplete: "off",
    spellcheck: "false"});
  input.value = message.rename.suggested || "";
  const form = el("form", {className: "rename-upload inline-fields"}, [
    el("label", {"for": "new-name", text: "Upload under another name"}), input,
    el("button", {type: "submit", className: "button", text: "Upload under this name"}),
  ]);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) { input.focus(); return; }
    onRename(name);
  });
  const children = [el("h2", {id: "name-taken-title", text: message.title}), el("p", {text: message.message}), form];
  if (message.link) {
    children.push(el("p", {}, [el("a", {href: message.link.href, className: "button secondary", text: message.link.text})]));
  }
  const section = el("section", {className: "problems js-message name-taken", role: "alert",
    "aria-labelledby": "name-taken-title"}, children);
  return {section, focus: input};
}

/**
 * Put `section` above `anchor`, in place of any message shown before, and move focus to `focusOn`
 * (by default the section's heading: a screen reader reads the problems next, a keyboard starts there).
 */
export function showMessage(anchor, section, focusOn) {
  removeMessages(document.querySelector("main") || document.body);
  anchor.parentNode.insertBefore(section, anchor);
  if (section.scrollIntoView) section.scrollIntoView({block: "nearest"});
  const target = focusOn || section.querySelector("h2") || section;
  if (!focusOn && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
}

/**
 * Show what went wrong (see failures.js describeFailure) above `anchor`. With `onRename`, a taken
 * name is offered to be changed in place (onRename(name) is called with the new one).
 */
export function showFailure(anchor, failure, options, backTo, onRename) {
  const message = describeFailure(failure, options, backTo, window.location.href);
  if (message.rename && onRename) {
    const taken = nameTakenSection(message, onRename);
    showMessage(anchor, taken.section, taken.focus);
    return;
  }
  showMessage(anchor, message.problems ? problemsSection(message.problems)
    : errorSection(message.title, message.message, message.link));
}
