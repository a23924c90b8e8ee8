/*
 * The list of what was chosen, drawn on the upload page as the user chooses (before anything is
 * sent): the document found and why that one, each data node with its file and size, the files
 * that will be left out, the problems found so far. Any file can be taken off the list.
 * What matches what is the portal's answer (POST /api/datapacks/check): the same rules as the create.
 */
import { el } from "./dom.js";
import { humanSize } from "./sizes.js";

function plural(count, word) {
  return count + " " + word + (count !== 1 ? "s" : "");
}

/**
 * Draws into `root` (emptied, shown). onRemove(path) takes a file off the list; onRestore() puts
 * every removed file back. `root` is aria-busy while the files are read and checked, so a screen
 * reader announces the list once it is drawn (and a test knows when it may press the button below it).
 */
export class ChosenList {
  constructor(root, {onRemove, onRestore}) {
    this.root = root;
    this.onRemove = onRemove;
    this.onRestore = onRestore;
  }

  clear() {
    this.root.textContent = "";
    this.root.hidden = true;
    this.root.setAttribute("aria-busy", "false");
  }

  /**
   * A line while the files are being read or checked (the list drawn before stays). The line keeps
   * its place when empty, so nothing on the page moves under a pointer as it comes and goes.
   */
  busy(text) {
    this.root.hidden = false;
    this.root.setAttribute("aria-busy", "true");
    this.busyLine().textContent = text;
  }

  busyLine() {
    let line = this.root.querySelector(".chosen-busy");
    if (!line) {
      line = el("p", {className: "chosen-busy muted"});
      this.root.appendChild(line);
    }
    return line;
  }

  removeButton(path) {
    const button = el("button", {type: "button", className: "button secondary small", text: "Remove",
      "aria-label": "Remove " + path + " from the upload"});
    button.addEventListener("click", () => this.onRemove(path));
    return button;
  }

  /**
   * view: {document: {path, why} | null, matches: [{where, path, size}], leftOut: [{path, size}],
   *        problems: [text], removed: count, unchecked: text (why the portal could not tell), archive: path}
   */
  show(view) {
    const root = this.root;
    root.textContent = "";
    root.hidden = false;
    const sent = view.matches.reduce((sum, match) => sum + match.size, 0);
    let summary = plural(view.matches.length, "file") + " to upload (" + humanSize(sent) + ")";
    if (view.leftOut.length) summary += ", " + view.leftOut.length + " left out";
    if (view.problems.length) summary += "; " + plural(view.problems.length, "problem") + " to fix first";
    root.appendChild(el("h2", {id: "chosen-title", text: "What will be uploaded"}));
    root.appendChild(el("p", {className: "chosen-summary", role: "status", "aria-live": "polite",
      text: summary + "."}));
    if (view.archive) {
      root.appendChild(el("p", {}, ["The files of ", el("code", {text: view.archive}), ", read in this browser."]));
    }
    root.appendChild(view.document
      ? el("p", {className: "chosen-document"}, ["The document: ", el("code", {text: view.document.path}),
        " — " + view.document.why + "."])
      : el("p", {className: "chosen-document", text: "No document yet."}));
    if (view.unchecked) root.appendChild(el("p", {className: "muted", text: view.unchecked}));
    if (view.matches.length) root.appendChild(this.matchesTable(view.matches));
    if (view.leftOut.length) root.appendChild(this.leftOutSection(view.leftOut));
    if (view.problems.length) {
      root.appendChild(el("div", {className: "chosen-problems"}, [
        el("h3", {text: "Problems found so far"}),
        el("ul", {}, view.problems.map((problem) => el("li", {text: problem}))),
      ]));
    }
    if (view.removed) {
      const restore = el("button", {type: "button", className: "button secondary small",
        text: "Put back the " + plural(view.removed, "removed file")});
      restore.addEventListener("click", () => this.onRestore());
      root.appendChild(el("p", {}, [restore]));
    }
    this.busyLine();
    root.setAttribute("aria-busy", "false");
  }

  matchesTable(matches) {
    return el("table", {className: "chosen-files stack"}, [
      el("caption", {text: "Each data node and its file"}),
      el("thead", {}, [el("tr", {}, ["Data node", "File", "Size", "Remove"].map((text) =>
        el("th", {scope: "col", text})))]),
      el("tbody", {}, matches.map((match) => el("tr", {"data-path": match.path}, [
        el("td", {"data-label": "Data node", text: match.where}),
        el("td", {"data-label": "File"}, [el("code", {text: match.path})]),
        el("td", {"data-label": "Size", className: "size", text: humanSize(match.size)}),
        el("td", {"data-label": "Remove"}, [this.removeButton(match.path)]),
      ]))),
    ]);
  }

  leftOutSection(leftOut) {
    return el("div", {className: "chosen-left-out"}, [
      el("h3", {text: "Left out: " + plural(leftOut.length, "file") + " no data node refers to"}),
      el("ul", {}, leftOut.map((file) => el("li", {"data-path": file.path}, [
        el("code", {text: file.path}), " (" + humanSize(file.size) + ") ", this.removeButton(file.path),
      ]))),
    ]);
  }
}
