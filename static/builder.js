/*
 * The builder with JavaScript: the chosen files stay in the browser the whole time.
 *
 *   1. Choosing: only the list of files (relative path, type, size) is posted to /build; the portal
 *      proposes the document and answers the editor, which replaces the #builder section in place.
 *   2. Editing (apply, move up/down, drop) posts the form the same way; previews of the local files
 *      (audio, video, images, charts of sensor files) are drawn in the tree picture (preview.js).
 *   3. Uploading: the edited document comes back from /build/document.json, goes with the list of
 *      files to POST /api/datapacks (the usual checks, then the datapack is created), and the files
 *      are sent by transfer.js (startTransfer: a progress bar per file, a few at a time, retries,
 *      cancel), which then lands on the usual result page.
 * Without JavaScript the same forms work as plain posts (the files are chosen again at the end).
 * The page script of build.html. No inline script or style anywhere (CSP).
 */
import { dataLinks, documentPaths } from "./datapack-document.js";
import { headOfFile, offerSuggestions } from "./datatype-picker.js";
import { csrfToken } from "./dom.js";
import { normalizePath } from "./paths.js";
import { showPreview } from "./preview.js";
import { startTransfer } from "./transfer.js";

/** As the portal reads a path: forward slashes, no leading slash, no "." parts, composed unicode. */
function composedPath(path) {
  return normalizePath(path, true);
}

/** The files of the form's file inputs, by composed path (the first file of a path wins). */
function chosenFiles(form) {
  const files = new Map();
  for (const input of form.querySelectorAll('input[type="file"]')) {
    for (const file of input.files || []) {
      const path = composedPath(file.webkitRelativePath || file.name);
      if (path && !files.has(path)) files.set(path, file);
    }
  }
  return files;
}

/** The form's fields as urlencoded text (never the files), plus the button that was pressed. */
function fields(form, submitter, extra = {}) {
  const params = new URLSearchParams();
  for (const element of form.elements) {
    if (!element.name || element.disabled || element.type === "file") continue;
    if (element.type === "submit" || element.type === "button") continue;
    if ((element.type === "checkbox" || element.type === "radio") && !element.checked) continue;
    params.append(element.name, element.value);
  }
  if (submitter && submitter.name) params.append(submitter.name, submitter.value);
  for (const [key, value] of Object.entries(extra)) params.append(key, value);
  return params;
}

function busy(form, on) {
  form.querySelectorAll("button").forEach((button) => { button.disabled = on; });
  form.setAttribute("aria-busy", on ? "true" : "false");
}

/** Save a blob as a download named `name`. */
function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function problemsOf(answer) {
  const list = (answer && answer.problems) || [];
  return (answer && answer.error ? answer.error : "The datapack was refused") + (list.length ? ": " + list.join("; ") : "");
}

/** The #builder section: the files held since they were chosen, and the steps that post its forms. */
class Builder {
  constructor(root) {
    this.root = root;
    this.held = null;     // Map: normalized path -> File, once files were chosen on this page
    this.cleanups = [];   // revoke object URLs of the previews on the page
  }

  say(message, state) {
    const line = this.root.querySelector(".b-progress");
    if (!line) return;
    line.hidden = false;
    line.textContent = message;
    line.setAttribute("data-state", state || "busy");
  }

  /** Post to a builder URL and show the answer's #builder section here (the files stay held). */
  async postAndSwap(url, params) {
    try {
      const response = await fetch(url, {method: "POST", body: params, credentials: "same-origin",
                                         headers: {"X-CSRFToken": csrfToken()}});
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      this.swap(page.getElementById("builder") || page.querySelector("main"));
    } catch (error) {
      this.say("The portal could not be reached: " + error.message, "failed");
    }
  }

  swap(fresh) {
    this.cleanups.forEach((done) => done());
    this.cleanups = [];
    this.root.innerHTML = fresh ? fresh.innerHTML : "<p>Something went wrong: reload the page.</p>";
    if (fresh && fresh.id === "builder") {
      for (const name of ["data-step", "data-folder"]) this.root.setAttribute(name, fresh.getAttribute(name) || "");
    }
    this.enhance();
    const focus = this.root.querySelector(".problems, h2");
    if (focus) {
      focus.setAttribute("tabindex", "-1");
      focus.focus({preventScroll: true});
    }
  }

  fileFor(link) {
    if (!this.held) return null;
    const folder = this.root.getAttribute("data-folder");
    return this.held.get(composedPath(folder ? folder + "/" + link : link)) || null;
  }

  /** Previews of the held files in the tree picture; hide what only the no-JS path needs. */
  enhance() {
    for (const slot of this.root.querySelectorAll(".local-preview[data-link]")) {
      const file = this.fileFor(slot.getAttribute("data-link"));
      if (file) this.cleanups.push(showPreview(slot, file, slot.getAttribute("data-kind")));
    }
    offerSuggestions(this.root, (slot) => {
      const file = this.fileFor(slot.getAttribute("data-link"));
      return file ? headOfFile(file) : null;
    });
    const ready = this.root.querySelector("#build-ready");
    if (ready && this.held) ready.textContent = "Upload to repovizz2";
  }

  /** The edited document, as the portal writes it from the editor's fields. */
  fetchDocument(form) {
    return fetch(this.root.getAttribute("data-document-url"), {
      method: "POST", body: fields(form, null), credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": csrfToken()}
    });
  }

  async downloadJson(form) {
    const response = await this.fetchDocument(form);
    if (!response.ok) return this.postAndSwap(form.getAttribute("action"), fields(form, null, {action: "apply"}));
    const blob = await response.blob();
    saveBlob(blob, (form.querySelector("#info-name").value.trim() || "datapack") + ".json");
  }

  async upload(form) {
    busy(form, true);
    this.say("Checking the datapack…");
    const checked = await this.fetchDocument(form);
    if (!checked.ok) return this.postAndSwap(form.getAttribute("action"), fields(form, null, {action: "apply"}));
    const document_ = await checked.json();
    const links = dataLinks(document_.children, []);
    const missing = links.filter((link) => !this.fileFor(link));
    if (missing.length) {
      busy(form, false);
      return this.say("These files are no longer at hand: " + missing.join(", ") + ". Start again.", "failed");
    }
    const created = await fetch(this.root.getAttribute("data-create-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({document: document_, files: links.map((link) => ({path: link, size: this.fileFor(link).size}))})
    });
    const answer = await created.json().catch(() => ({}));
    if (!created.ok) {
      busy(form, false);
      if (answer.login) {
        window.location.assign(answer.login);
        return undefined;
      }
      return this.say(problemsOf(answer), "failed");
    }
    const uploads = answer.uploads || [];
    const files = new Map(uploads.map((item) => [item.path, this.fileFor(item.link)]));
    form.hidden = true;
    startTransfer({
      container: document.getElementById("transfer"),
      datapackId: answer.datapack_id,
      uploads,
      files,
      settings: this.root,
      title: "Uploading " + ((document_.info && document_.info.name) || "the datapack"),
      resultUrl: this.root.getAttribute("data-result-url"),
      document: document_,
      apiCalls: answer.api_calls
    });
    return undefined;
  }

  /** The files were chosen: only their list goes to the portal, which proposes the document. */
  async choose(form) {
    const held = chosenFiles(form);
    this.held = held;
    busy(form, true);
    const maxJsonBytes = (parseInt(this.root.getAttribute("data-max-json-kb"), 10) || 1024) * 1024;
    const documents = await documentPaths(held, maxJsonBytes);
    const list = [...held].map(([path, file]) => ({path, type: file.type || "", size: file.size,
                                                   document: documents.has(path)}));
    this.postAndSwap(form.getAttribute("action"), fields(form, null, {files_json: JSON.stringify(list)}));
  }

  edit(form, submitter) {
    if (submitter && submitter.id === "build-download") {
      this.downloadJson(form);
    } else if (submitter && submitter.value === "ready") {
      this.upload(form).catch((error) => {
        busy(form, false);
        this.say("The upload stopped: " + error.message, "failed");
      });
    } else {
      busy(form, true);
      this.postAndSwap(form.getAttribute("action"), fields(form, submitter));
    }
  }

  start() {
    document.documentElement.classList.add("js");
    this.root.addEventListener("submit", (event) => {
      const form = event.target;
      if (form.id === "build-choose") {
        event.preventDefault();
        this.choose(form);
      } else if (form.id === "build-editor" && this.held) {
        event.preventDefault();
        this.edit(form, event.submitter || null);
      }
    });
    this.enhance();
    this.root.dataset.enhanced = "true";  // from here on its forms post through this script, the files held
  }
}

const root = document.getElementById("builder");
if (root && window.fetch) new Builder(root).start();
