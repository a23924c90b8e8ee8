/*
 * The enhanced upload: the browser sends each file to the portal itself, with progress.
 *
 * The page script of upload.html (#upload-form) and datapack.html (#pending-form). Without
 * JavaScript both forms still post as plain multipart forms; with it:
 *   0. as files are chosen, the list of what will be uploaded is drawn (chosen-list.js), from the
 *      portal's check of the document against the files (POST /api/datapacks/check);
 *   1. the document and the list of files (relative path + size, no bytes) go to the portal's JSON
 *      API, which applies the datapack rules and creates the datapack (or lists pending links);
 *   2. each file is PUT as the raw request body (transfer.js: upload progress events), a few at a
 *      time, retried with exponential backoff when the portal or repovizz2 fails;
 *   3. the browser lands on the server-rendered result page (or the datapack page, when resuming).
 * A .zip is read in the page (zip-reader.js) and its files go the same way; one compressed in a way
 * only the portal reads (or when the reader cannot load) is posted as the plain form posts it.
 * The builder (builder.js) sends its files through the same startTransfer.
 * No inline script or style: the page can run under a Content-Security-Policy without 'unsafe-inline'.
 */
import { ChosenList } from "./chosen-list.js";
import { applyName, findDocument, readChosenDocument } from "./datapack-document.js";
import { el, filesOf, postJSON } from "./dom.js";
import { DropZone, guardWindowDrops } from "./dropzone.js";
import { clearMessages, showFailure } from "./messages.js";
import { baseName, chosenPath, isIgnored, normalizePath } from "./paths.js";
import { startTransfer } from "./transfer.js";
import { filesByPath, transferSettings } from "./transfer-rules.js";

const FOUND_WHY = 'the .json file with "info" and "children" nearest the top of the folder';
const CHOSEN_WHY = "chosen as the document";

function setBusy(form, busy) {
  for (const node of form.querySelectorAll("fieldset, button[type=submit]")) node.disabled = busy;
  form.setAttribute("aria-busy", busy ? "true" : "false");
}

function statusLine(form, text) {
  const line = el("p", {className: "checking", role: "status", "aria-live": "polite", text});
  form.parentNode.insertBefore(line, form);
  return {remove: () => line.remove()};
}

/** The form is usable again, with the reason above `anchor` (and a taken name to change in place, with onRename). */
function notStarted(form, status, anchor, options, backTo, onRename) {
  return (failure) => {
    status.remove();
    setBusy(form, false);
    showFailure(anchor, failure, options, backTo, onRename);
  };
}

/** Entries [{path, file}] of a form's file and folder inputs and its drop zone, desktop clutter left out. */
function chosenEntries(inputs, zone) {
  const picked = inputs.flatMap((input) => filesOf(input)).map((file) => ({file, path: chosenPath(file)}));
  return picked.concat(zone ? zone.items : []).filter((entry) => !isIgnored(entry.path));
}

// ---------------------------------------------------------------- the upload page

class UploadPage {
  constructor(form) {
    this.form = form;
    this.documentInput = form.querySelector('input[name="document"]');
    this.filesInput = form.querySelector('input[name="files"]');
    this.folderInput = form.querySelector('input[name="folder"]');
    this.archiveInput = form.querySelector('input[name="archive"]');
    this.nameInput = form.querySelector('input[name="name"]');
    this.nameChoice = this.nameInput ? this.nameInput.closest("fieldset") : null;
    this.transferRoot = document.getElementById("transfer");
    const zoneNode = form.querySelector(".dropzone");
    this.zone = zoneNode ? new DropZone(zoneNode, this.archiveInput, () => this.refresh()) : null;
    this.maxJsonKb = parseInt(form.getAttribute("data-max-json-kb"), 10) || 1024;
    this.zipLimits = {
      maxFiles: parseInt(form.getAttribute("data-max-files"), 10) || 1000,
      maxTotalBytes: parseInt(form.getAttribute("data-max-archive-bytes"), 10) || Infinity,
    };
    this.createUrl = form.getAttribute("data-create-url") || "/api/datapacks";
    this.checkUrl = form.getAttribute("data-check-url") || "/api/datapacks/check";
    this.resultPattern = form.getAttribute("data-result-url") || "/datapacks/DATAPACK_ID/result";
    this.removed = new Set();
    this.zipRead = null;  // {file, reading}: the archive input's .zip, read once
    this.refreshes = 0;
    const listRoot = form.querySelector("#chosen");
    this.list = listRoot ? new ChosenList(listRoot, {
      onRemove: (path) => { this.removed.add(path); this.refresh(); },
      onRestore: () => { this.removed.clear(); this.refresh(); },
    }) : null;
    for (const input of [this.documentInput, this.filesInput, this.folderInput, this.archiveInput]) {
      if (input) input.addEventListener("change", () => { this.removed.clear(); this.refresh(); });
    }
    form.addEventListener("submit", (event) => this.submitted(event));
    form.dataset.enhanced = "true";  // from here on the page sends the files itself, with progress
    if (this.anythingChosen()) this.refresh();  // chosen before the script ran (or kept by the browser)
  }

  anythingChosen() {
    return [this.documentInput, this.filesInput, this.folderInput, this.archiveInput]
      .some((input) => filesOf(input).length) || Boolean(this.zone && this.zone.items.length);
  }

  /**
   * The archive input's .zip read in the page (once per file chosen): {entries} | {problems} |
   * {unreadable}. The reader (and the unzip library under it) loads only once a .zip is chosen.
   */
  readArchive(file) {
    if (!this.zipRead || this.zipRead.file !== file) {
      // Should the reader not load, the plain form sends the .zip and the portal reads it.
      const reading = import("./zip-reader.js").then(({readZip}) => readZip(file, this.zipLimits),
        () => ({unreadable: true}));
      this.zipRead = {file, reading};
    }
    return this.zipRead.reading;
  }

  /**
   * What is chosen now: {entries, archive} (the files, those taken off the list left out), or
   * {problems} / {unreadable} for a .zip.
   */
  async gather() {
    const archive = filesOf(this.archiveInput)[0];
    let entries;
    if (archive) {
      const read = await this.readArchive(archive);
      if (!read.entries) return {...read, archive: archive.name};
      entries = read.entries.filter((entry) => !isIgnored(entry.path));
    } else {
      entries = chosenEntries([this.filesInput, this.folderInput], this.zone);
    }
    return {entries: entries.filter((entry) => !this.removed.has(entry.path)), archive: archive ? archive.name : null};
  }

  /** The document and the files beside it: {document, path, why, rest}; rejects {problems}. */
  async documentOf(entries) {
    const documentFile = filesOf(this.documentInput)[0];
    if (documentFile) {
      const name = baseName(documentFile.name);
      const document_ = await readChosenDocument(documentFile, this.maxJsonKb * 1024, this.maxJsonKb);
      return {document: document_, path: documentFile.name, why: CHOSEN_WHY,
              rest: entries.filter((entry) => baseName(entry.path) !== name)};
    }
    const found = await findDocument(entries, this.maxJsonKb * 1024);
    return {document: found.document, path: normalizePath(found.entry.path), why: FOUND_WHY,
            rest: entries.filter((entry) => entry !== found.entry)};
  }

  /** Draw the list of what was chosen again (answers to an older choice are dropped). */
  async refresh() {
    if (!this.list) return;
    const turn = ++this.refreshes;
    const current = () => turn === this.refreshes && this.form.getAttribute("aria-busy") !== "true";
    if (!this.anythingChosen()) { this.list.clear(); return; }
    this.list.busy("Reading the chosen files…");
    const view = {document: null, matches: [], leftOut: [], problems: [], removed: this.removed.size,
                  unchecked: "", archive: null};
    const chosen = await this.gather();
    if (!current()) return;
    view.archive = chosen.archive;
    if (chosen.unreadable) {
      view.unchecked = "This .zip is compressed in a way only the portal reads: it is sent as it is, " +
        "and checked once it arrives.";
      this.list.show(view);
      return;
    }
    if (chosen.problems) {
      view.problems = chosen.problems;
      this.list.show(view);
      return;
    }
    const sizes = new Map(chosen.entries.map((entry) => [entry.path, entry.file.size]));
    let found;
    try {
      found = await this.documentOf(chosen.entries);
    } catch (failure) {
      if (!current()) return;
      view.problems = (failure && failure.problems) || [String(failure)];
      view.leftOut = chosen.entries.map((entry) => ({path: entry.path, size: entry.file.size}));
      view.unchecked = "Until there is a document, no file can be matched to a data node.";
      this.list.show(view);
      return;
    }
    if (!current()) return;
    view.document = {path: found.path, why: found.why};
    const document_ = JSON.parse(JSON.stringify(found.document));
    applyName(document_, this.nameInput && this.nameInput.value);
    this.list.busy("Checking the files against the document…");
    const answer = await postJSON(this.checkUrl, {
      document: document_, files: found.rest.map((entry) => ({path: entry.path, size: entry.file.size})),
    }).catch(() => null);
    if (!current()) return;
    const body = answer && answer.body;
    if (answer && answer.status === 200 && body && Array.isArray(body.matches)) {
      view.matches = body.matches;
      view.leftOut = (body.left_out || []).map((path) => ({path, size: sizes.get(path) || 0}));
      view.problems = body.problems || [];
    } else if (answer && body && Array.isArray(body.problems) && body.problems.length) {
      view.problems = body.problems;
    } else {
      view.leftOut = found.rest.map((entry) => ({path: entry.path, size: entry.file.size}));
      view.unchecked = "The portal could not check the files now" +
        (body && body.error ? " (" + body.error + ")" : "") + "; they are checked again when you upload.";
    }
    this.list.show(view);
  }

  submitted(event) {
    const form = this.form;
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    // Nothing chosen at all: the server explains.
    if (!this.anythingChosen() || !window.fetch || !window.XMLHttpRequest) return;
    event.preventDefault();
    this.send();
  }

  /** The form as the plain form posts it (a .zip only the portal reads). */
  postPlainly() {
    setBusy(this.form, false);
    HTMLFormElement.prototype.submit.call(this.form);
  }

  async send() {
    const form = this.form;
    this.options = transferSettings(form);
    setBusy(form, true);
    this.status = statusLine(form, "Checking the datapack…");
    try {
      const chosen = await this.gather();
      if (chosen.unreadable) {
        this.status.remove();
        this.postPlainly();
        return;
      }
      if (chosen.problems) throw {problems: chosen.problems};
      const found = await this.documentOf(chosen.entries);
      this.entries = found.rest;
      this.chosenDocument = found.document;
      applyName(this.chosenDocument, this.nameInput && this.nameInput.value);
      await this.create();
    } catch (failure) {
      this.failed(failure);
    }
  }

  async create() {
    const files = this.entries.map((entry) => ({path: entry.path, size: entry.file.size}));
    const answer = await postJSON(this.createUrl, {document: this.chosenDocument, files});
    if (!(answer.status === 201 && answer.body && answer.body.datapack_id)) throw {answer};
    this.status.remove();
    clearMessages();  // a taken name's box, say: answered by now
    this.form.hidden = true;
    startTransfer({
      container: this.transferRoot,
      datapackId: answer.body.datapack_id,
      uploads: answer.body.uploads,
      leftOut: answer.body.left_out || [],
      files: filesByPath(this.entries),
      settings: this.form,
      title: "Uploading " + ((this.chosenDocument.info && this.chosenDocument.info.name) || "the datapack"),
      resultUrl: this.resultPattern,
      document: this.chosenDocument,
      apiCalls: answer.body.api_calls,
    });
  }

  /** The name was taken: the same document and files, sent again under the name chosen on the page. */
  rename(name) {
    if (this.form.getAttribute("aria-busy") === "true") return;
    applyName(this.chosenDocument, name);
    if (this.nameInput) this.nameInput.value = this.chosenDocument.info.name;
    setBusy(this.form, true);
    this.status = statusLine(this.form, "Checking the datapack under its new name…");
    this.create().catch((failure) => this.failed(failure));
  }

  failed(failure) {
    notStarted(this.form, this.status, this.form, this.options, window.location.pathname,
      (name) => this.rename(name))(failure);
    // A taken name brings its own name field: the form's is hidden meanwhile, so there is one.
    if (this.nameChoice) this.nameChoice.hidden = Boolean(document.querySelector("section.name-taken"));
    this.refresh();
  }
}

// ---------------------------------------------------------------- the datapack page (resume)

function enhancePendingForm(form) {
  const inputs = [form.querySelector('input[name="files"]'), form.querySelector('input[name="folder"]')];
  const transferRoot = document.getElementById("transfer");
  const zoneNode = form.querySelector(".dropzone");
  const zone = zoneNode ? new DropZone(zoneNode, null) : null;
  const pendingUrl = form.getAttribute("data-pending-url");
  const datapackId = form.getAttribute("data-datapack-id");

  form.addEventListener("submit", (event) => {
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    const entries = chosenEntries(inputs, zone);
    if (!entries.length || !pendingUrl || !window.fetch || !window.XMLHttpRequest) return;
    event.preventDefault();
    const options = transferSettings(form);
    setBusy(form, true);
    const status = statusLine(form, "Looking for the pending files among the chosen ones…");
    const datapackHref = options.datapackUrl(datapackId);
    postJSON(pendingUrl, {files: entries.map((entry) => ({path: entry.path, size: entry.file.size}))}).then((answer) => {
      status.remove();
      if (!(answer.status === 200 && answer.body && answer.body.uploads)) throw {answer};
      form.hidden = true;
      const resultPattern = form.getAttribute("data-result-url");
      startTransfer({
        container: transferRoot,
        datapackId,
        uploads: answer.body.uploads,
        files: filesByPath(entries),
        settings: form,
        title: "Uploading the pending files",
        // The result page: every file of the datapack, the ones sent before included.
        resultUrl: resultPattern || undefined,
        document: null,
        onComplete: resultPattern ? undefined : (sizes, transfer) => {
          transfer.announce("All pending files were uploaded. Reloading the datapack page…");
          window.location.assign(datapackHref);
        },
      });
    }).catch(notStarted(form, status, form.closest("section") || form, options,
      new URL(datapackHref, window.location.href).pathname));
  });
  form.dataset.enhanced = "true";  // from here on the page sends the pending files itself, with progress
}

// ---------------------------------------------------------------- start

function init() {
  const uploadForm = document.getElementById("upload-form");
  const pendingForm = document.getElementById("pending-form");
  if (!uploadForm && !pendingForm) return;
  guardWindowDrops();
  if (uploadForm) new UploadPage(uploadForm);
  if (pendingForm) enhancePendingForm(pendingForm);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
