/*
 * The enhanced upload: the browser sends each file to the portal itself, with progress.
 *
 * The page script of upload.html (#upload-form) and datapack.html (#pending-form). Without
 * JavaScript both forms still post as plain multipart forms; with it:
 *   1. the document and the list of files (relative path + size, no bytes) go to the portal's JSON
 *      API, which applies the datapack rules and creates the datapack (or lists pending links);
 *   2. each file is PUT as the raw request body (transfer.js: upload progress events), a few at a
 *      time, retried with exponential backoff when the portal or repovizz2 fails;
 *   3. the browser lands on the server-rendered result page (or the datapack page, when resuming).
 * The builder (builder.js) sends its files through the same startTransfer.
 * No inline script or style: the page can run under a Content-Security-Policy without 'unsafe-inline'.
 */
import { applyName, findDocument, readChosenDocument } from "./datapack-document.js";
import { el, filesOf, postJSON } from "./dom.js";
import { DropZone, guardWindowDrops } from "./dropzone.js";
import { clearMessages, showFailure } from "./messages.js";
import { baseName, chosenPath, isIgnored } from "./paths.js";
import { startTransfer } from "./transfer.js";
import { filesByPath, transferSettings } from "./transfer-rules.js";

// ---------------------------------------------------------------- form helpers

function setBusy(form, busy) {
  Array.prototype.forEach.call(form.querySelectorAll("fieldset, button[type=submit]"), function (node) {
    node.disabled = busy;
  });
  form.setAttribute("aria-busy", busy ? "true" : "false");
}

// ---------------------------------------------------------------- the upload page

function enhanceUploadForm(form) {
  var documentInput = form.querySelector('input[name="document"]');
  var filesInput = form.querySelector('input[name="files"]');
  var folderInput = form.querySelector('input[name="folder"]');
  var archiveInput = form.querySelector('input[name="archive"]');
  var nameInput = form.querySelector('input[name="name"]');
  var transferRoot = document.getElementById("transfer");
  var zoneNode = form.querySelector(".dropzone");
  var zone = zoneNode ? new DropZone(zoneNode, archiveInput) : null;
  var maxJsonKb = parseInt(form.getAttribute("data-max-json-kb"), 10) || 1024;
  var createUrl = form.getAttribute("data-create-url") || "/api/datapacks";
  var resultPattern = form.getAttribute("data-result-url") || "/datapacks/DATAPACK_ID/result";

  form.addEventListener("submit", function (event) {
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    var archiveChosen = filesOf(archiveInput).length > 0;
    var entries = filesOf(filesInput).concat(filesOf(folderInput)).map(function (file) {
      return {file: file, path: chosenPath(file)};
    }).concat(zone ? zone.items : []);
    var documentFile = filesOf(documentInput)[0] || null;
    // A .zip, or nothing chosen at all: the server reads (or explains) it.
    if (archiveChosen || (!documentFile && !entries.length) || !window.fetch || !window.XMLHttpRequest) return;
    event.preventDefault();
    var options = transferSettings(form);
    setBusy(form, true);
    entries = entries.filter(function (entry) { return !isIgnored(entry.path); });
    var status = statusLine(form, "Checking the datapack…");

    var gotDocument;
    if (documentFile) {
      var documentName = baseName(documentFile.name);
      entries = entries.filter(function (entry) { return baseName(entry.path) !== documentName; });
      gotDocument = readChosenDocument(documentFile, maxJsonKb * 1024, maxJsonKb);
    } else {
      gotDocument = findDocument(entries, maxJsonKb * 1024).then(function (found) {
        entries = entries.filter(function (entry) { return entry !== found.entry; });
        return found.document;
      });
    }

    var chosenDocument;

    function create() {
      var files = entries.map(function (entry) { return {path: entry.path, size: entry.file.size}; });
      return postJSON(createUrl, {document: chosenDocument, files: files}).then(function (answer) {
        if (answer.status === 201 && answer.body && answer.body.datapack_id) {
          status.remove();
          clearMessages();  // a taken name's box, say: answered by now
          form.hidden = true;
          startTransfer({
            container: transferRoot,
            datapackId: answer.body.datapack_id,
            uploads: answer.body.uploads,
            leftOut: answer.body.left_out || [],
            files: filesByPath(entries),
            settings: form,
            title: "Uploading " + ((chosenDocument.info && chosenDocument.info.name) || "the datapack"),
            resultUrl: resultPattern,
            document: chosenDocument,
            apiCalls: answer.body.api_calls
          });
          return;
        }
        throw {answer: answer};
      });
    }

    /** The name was taken: the same document and files, sent again under the name chosen on the page. */
    function rename(name) {
      if (form.getAttribute("aria-busy") === "true") return;
      applyName(chosenDocument, name);
      if (nameInput) nameInput.value = chosenDocument.info.name;
      setBusy(form, true);
      status = statusLine(form, "Checking the datapack under its new name…");
      create().catch(failed);
    }

    function failed(failure) {
      notStarted(form, status, form, options, window.location.pathname, rename)(failure);
    }

    gotDocument.then(function (documentValue) {
      chosenDocument = documentValue;
      applyName(chosenDocument, nameInput && nameInput.value);
      return create();
    }).catch(failed);
  });
}

/**
 * When the datapack could not be created (or resumed): the form is usable again, with the reason
 * above `anchor` (a taken name with a field to change it in place, when `onRename` is given).
 */
function notStarted(form, status, anchor, options, backTo, onRename) {
  return function (failure) {
    status.remove();
    setBusy(form, false);
    showFailure(anchor, failure, options, backTo, onRename);
  };
}

function statusLine(form, text) {
  var line = el("p", {className: "checking", role: "status", "aria-live": "polite", text: text});
  form.parentNode.insertBefore(line, form);
  return {remove: function () { if (line.parentNode) line.parentNode.removeChild(line); }};
}

// ---------------------------------------------------------------- the datapack page (resume)

function enhancePendingForm(form) {
  var filesInput = form.querySelector('input[name="files"]');
  var folderInput = form.querySelector('input[name="folder"]');
  var transferRoot = document.getElementById("transfer");
  var zoneNode = form.querySelector(".dropzone");
  var zone = zoneNode ? new DropZone(zoneNode, null) : null;
  var pendingUrl = form.getAttribute("data-pending-url");
  var datapackId = form.getAttribute("data-datapack-id");

  form.addEventListener("submit", function (event) {
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    var entries = filesOf(filesInput).concat(filesOf(folderInput)).map(function (file) {
      return {file: file, path: chosenPath(file)};
    }).concat(zone ? zone.items : []).filter(function (entry) { return !isIgnored(entry.path); });
    if (!entries.length || !pendingUrl || !window.fetch || !window.XMLHttpRequest) return;
    event.preventDefault();
    var options = transferSettings(form);
    setBusy(form, true);
    var status = statusLine(form, "Looking for the pending files among the chosen ones…");
    var datapackHref = options.datapackUrl(datapackId);
    postJSON(pendingUrl, {
      files: entries.map(function (entry) { return {path: entry.path, size: entry.file.size}; })
    }).then(function (answer) {
      status.remove();
      if (answer.status === 200 && answer.body && answer.body.uploads) {
        form.hidden = true;
        var resultPattern = form.getAttribute("data-result-url");
        startTransfer({
          container: transferRoot,
          datapackId: datapackId,
          uploads: answer.body.uploads,
          files: filesByPath(entries),
          settings: form,
          title: "Uploading the pending files",
          // The result page: every file of the datapack, the ones sent before included.
          resultUrl: resultPattern || undefined,
          document: null,
          onComplete: resultPattern ? undefined : function (sizes, transfer) {
            transfer.announce("All pending files were uploaded. Reloading the datapack page…");
            window.location.assign(datapackHref);
          }
        });
        return;
      }
      throw {answer: answer};
    }).catch(notStarted(form, status, form.closest("section") || form, options,
      new URL(datapackHref, window.location.href).pathname));
  });
}

// ---------------------------------------------------------------- start

function init() {
  var uploadForm = document.getElementById("upload-form");
  var pendingForm = document.getElementById("pending-form");
  if (!uploadForm && !pendingForm) return;
  guardWindowDrops();
  if (uploadForm) enhanceUploadForm(uploadForm);
  if (pendingForm) enhancePendingForm(pendingForm);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
