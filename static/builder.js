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

var root = document.getElementById("builder");
var held = null;      // Map: normalized path -> File, once files were chosen on this page
var cleanups = [];    // revoke object URLs of the previews on the page

/** As the portal reads a path: forward slashes, no leading slash, no "." parts, composed unicode. */
function composedPath(path) {
  return normalizePath(path, true);
}

function chosenFiles(form) {
  var files = new Map();
  form.querySelectorAll('input[type="file"]').forEach(function (input) {
    Array.prototype.forEach.call(input.files || [], function (file) {
      var path = composedPath(file.webkitRelativePath || file.name);
      if (path && !files.has(path)) files.set(path, file);
    });
  });
  return files;
}

/** The form's fields as urlencoded text (never the files), plus the button that was pressed. */
function fields(form, submitter, extra) {
  var params = new URLSearchParams();
  Array.prototype.forEach.call(form.elements, function (element) {
    if (!element.name || element.disabled || element.type === "file") return;
    if (element.type === "submit" || element.type === "button") return;
    if ((element.type === "checkbox" || element.type === "radio") && !element.checked) return;
    params.append(element.name, element.value);
  });
  if (submitter && submitter.name) params.append(submitter.name, submitter.value);
  Object.keys(extra || {}).forEach(function (key) { params.append(key, extra[key]); });
  return params;
}

function say(message, state) {
  var line = root.querySelector(".b-progress");
  if (!line) return;
  line.hidden = false;
  line.textContent = message;
  line.setAttribute("data-state", state || "busy");
}

function busy(form, on) {
  form.querySelectorAll("button").forEach(function (button) { button.disabled = on; });
  form.setAttribute("aria-busy", on ? "true" : "false");
}

/** Post to a builder URL and show the answer's #builder section here (the files stay held). */
function postAndSwap(url, params) {
  return fetch(url, { method: "POST", body: params, credentials: "same-origin",
                      headers: { "X-CSRFToken": csrfToken() } })
    .then(function (response) { return response.text(); })
    .then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.getElementById("builder") || page.querySelector("main");
      swap(fresh);
    })
    .catch(function (error) { say("The portal could not be reached: " + error.message, "failed"); });
}

function swap(fresh) {
  cleanups.forEach(function (done) { done(); });
  cleanups = [];
  root.innerHTML = fresh ? fresh.innerHTML : "<p>Something went wrong: reload the page.</p>";
  if (fresh && fresh.id === "builder") {
    ["data-step", "data-folder"].forEach(function (name) { root.setAttribute(name, fresh.getAttribute(name) || ""); });
  }
  enhance();
  var focus = root.querySelector(".problems, h2");
  if (focus) {
    focus.setAttribute("tabindex", "-1");
    focus.focus({ preventScroll: true });
  }
}

function fileFor(link) {
  if (!held) return null;
  var folder = root.getAttribute("data-folder");
  return held.get(composedPath(folder ? folder + "/" + link : link)) || null;
}

/** Previews of the held files in the tree picture; hide what only the no-JS path needs. */
function enhance() {
  root.querySelectorAll(".local-preview[data-link]").forEach(function (slot) {
    var file = fileFor(slot.getAttribute("data-link"));
    if (file) cleanups.push(showPreview(slot, file, slot.getAttribute("data-kind")));
  });
  offerSuggestions(root, function (slot) {
    var file = fileFor(slot.getAttribute("data-link"));
    return file ? headOfFile(file) : null;
  });
  var ready = root.querySelector("#build-ready");
  if (ready && held) ready.textContent = "Upload to repovizz2";
}

function downloadJson(form) {
  fetch(root.getAttribute("data-document-url"), {
    method: "POST", body: fields(form, null), credentials: "same-origin",
    headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
  }).then(function (response) {
    if (!response.ok) return postAndSwap(form.getAttribute("action"), fields(form, null, { action: "apply" }));
    return response.blob().then(function (blob) {
      var name = (form.querySelector("#info-name").value.trim() || "datapack") + ".json";
      var url = URL.createObjectURL(blob);
      var link = document.createElement("a");
      link.href = url;
      link.download = name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
  });
}

function problemsOf(answer) {
  var list = (answer && answer.problems) || [];
  return (answer && answer.error ? answer.error : "The datapack was refused") + (list.length ? ": " + list.join("; ") : "");
}

async function upload(form) {
  busy(form, true);
  say("Checking the datapack…");
  var checked = await fetch(root.getAttribute("data-document-url"), {
    method: "POST", body: fields(form, null), credentials: "same-origin",
    headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
  });
  if (!checked.ok) return postAndSwap(form.getAttribute("action"), fields(form, null, { action: "apply" }));
  var document_ = await checked.json();
  var links = dataLinks(document_.children, []);
  var missing = links.filter(function (link) { return !fileFor(link); });
  if (missing.length) {
    busy(form, false);
    return say("These files are no longer at hand: " + missing.join(", ") + ". Start again.", "failed");
  }
  var created = await fetch(root.getAttribute("data-create-url"), {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ document: document_, files: links.map(function (link) {
      return { path: link, size: fileFor(link).size };
    }) })
  });
  var answer = await created.json().catch(function () { return {}; });
  if (!created.ok) {
    busy(form, false);
    if (answer.login) { window.location.assign(answer.login); return; }
    return say(problemsOf(answer), "failed");
  }
  var uploads = answer.uploads || [];
  var files = new Map();
  uploads.forEach(function (item) { files.set(item.path, fileFor(item.link)); });
  form.hidden = true;
  startTransfer({
    container: document.getElementById("transfer"),
    datapackId: answer.datapack_id,
    uploads: uploads,
    files: files,
    settings: root,
    title: "Uploading " + ((document_.info && document_.info.name) || "the datapack"),
    resultUrl: root.getAttribute("data-result-url"),
    document: document_,
    apiCalls: answer.api_calls
  });
}

function start() {
  document.documentElement.classList.add("js");
  root.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter || null;
    if (form.id === "build-choose") {
      event.preventDefault();
      held = chosenFiles(form);
      busy(form, true);
      documentPaths(held, (parseInt(root.getAttribute("data-max-json-kb"), 10) || 1024) * 1024).then(function (documents) {
        var list = [];
        held.forEach(function (file, path) {
          list.push({ path: path, type: file.type || "", size: file.size, document: documents.has(path) });
        });
        postAndSwap(form.getAttribute("action"), fields(form, null, { files_json: JSON.stringify(list) }));
      });
    } else if (form.id === "build-editor" && held) {
      event.preventDefault();
      if (submitter && submitter.id === "build-download") downloadJson(form);
      else if (submitter && submitter.value === "ready") upload(form).catch(function (error) {
        busy(form, false);
        say("The upload stopped: " + error.message, "failed");
      });
      else {
        busy(form, true);
        postAndSwap(form.getAttribute("action"), fields(form, submitter));
      }
    }
  });
  enhance();
}

if (root && window.fetch) start();
