/*
 * The transfer on the page: one <progress> per file plus one for the whole datapack, a Cancel that
 * asks first, and the landing on the server-rendered result page. The queue itself (what is sent
 * next, retries, lost answers) is upload-queue.js; each file goes as the raw body of a PUT.
 * Used by upload.js (the upload and datapack pages) and builder.js through startTransfer.
 */
import { csrfToken, el, postJSON } from "./dom.js";
import { loginHref } from "./failures.js";
import { humanDuration, humanSize, percent } from "./sizes.js";
import { UploadQueue } from "./upload-queue.js";
import { RETRIES, attachFiles, filesByPath, leftOutNote, stillPending, transferSettings } from "./transfer-rules.js";

const STATE_LABELS = {queued: "waiting", sending: "sending", uploaded: "uploaded", failed: "failed", unsent: "not sent"};

/** The bytes to send for a chosen file: a File as it is, or a file read from a .zip (its blob()). */
function bodyOf(file) {
  return typeof file.blob === "function" ? file.blob() : Promise.resolve(file);
}

/**
 * One PUT of a file to the portal with XMLHttpRequest (fetch has no upload progress): the
 * {answer, abort} the queue expects.
 */
function putFile(item, onProgress) {
  const upload = item.file;
  let xhr = null;
  let aborted = false;
  const answer = bodyOf(upload.file).then((body) => new Promise((resolve) => {
    if (aborted) return;
    xhr = new XMLHttpRequest();
    const url = new URL(upload.url, window.location.href);
    if (upload.file.type) url.searchParams.set("mime", upload.file.type);
    xhr.open("PUT", url.pathname + url.search);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.responseType = "text";
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      let parsed = null;
      try { parsed = JSON.parse(xhr.responseText); } catch (ignored) { parsed = null; }
      resolve({status: xhr.status, body: parsed});
    };
    xhr.onerror = () => resolve({status: 0, body: null});
    xhr.ontimeout = xhr.onerror;
    xhr.send(body);
  }), (error) => ({status: 422, body: {error: "the file could not be read: " + (error && error.message || error)}}));
  return {answer, abort: () => { aborted = true; if (xhr) xhr.abort(); }};
}

/** Rows of the transfer: the file's progress, its state and its Retry button. */
class FileRow {
  constructor(item, onRetry) {
    const id = "file-progress-" + item.index;
    const upload = item.file;
    this.bar = el("progress", {id, max: item.size || 1, value: 0, "aria-describedby": id + "-text"});
    this.text = el("span", {id: id + "-text", className: "progress-text"});
    this.stateLabel = el("span", {className: "status queued", text: "waiting"});
    this.retryButton = el("button", {type: "button", className: "button secondary retry", hidden: true,
      text: "Retry", "aria-label": "Retry " + upload.path});
    this.retryButton.addEventListener("click", () => onRetry(item));
    this.node = el("li", {className: "transfer-file", "data-link": upload.link, "data-state": "queued"}, [
      el("label", {"for": id, className: "file-name"}, [el("code", {text: upload.path})]),
      this.bar, this.text, " ", this.stateLabel, " ", this.retryButton,
    ]);
  }

  show(item, label) {
    const state = item.state === "waiting" ? "waiting" : item.state;
    this.node.setAttribute("data-state", state === "unsent" ? "pending" : state);
    this.stateLabel.className = "status " + (state === "unsent" ? "pending" : state);
    if (label || state !== "waiting") {
      this.stateLabel.textContent = label || (state === "sending" && item.attempt > 1
        ? "sending (try " + item.attempt + ")" : STATE_LABELS[state] || state);
    }
    this.retryButton.hidden = state !== "failed";
  }

  render(item) {
    this.bar.value = item.loaded;
    this.text.textContent = humanSize(item.loaded) + " of " + humanSize(item.size) +
      " (" + percent(item.loaded, item.size) + "%)" + (item.error ? " — " + item.error : "");
  }
}

/**
 * The question before a Cancel: what is in repovizz2 stays, the rest can be sent later. A <dialog>
 * (the safe choice, keep uploading, has the focus); resolves true to stop.
 */
function confirmCancel(uploaded, total) {
  if (typeof HTMLDialogElement === "undefined") return Promise.resolve(window.confirm("Stop the upload?"));
  return new Promise((resolve) => {
    const keep = el("button", {type: "button", className: "button", text: "Keep uploading"});
    const stop = el("button", {type: "button", className: "button danger", text: "Stop the upload"});
    const dialog = el("dialog", {className: "confirm-cancel", "aria-labelledby": "cancel-title"}, [
      el("h2", {id: "cancel-title", text: "Stop the upload?"}),
      el("p", {text: "The datapack is in repovizz2 already, with the " + uploaded + " of " + total +
        " files uploaded so far; they stay. The files not sent yet wait in it as pending: you can send " +
        "them from the datapack's page, now or later."}),
      el("p", {className: "actions"}, [keep, " ", stop]),
    ]);
    let answer = false;
    keep.addEventListener("click", () => dialog.close());
    stop.addEventListener("click", () => { answer = true; dialog.close(); });
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    document.body.appendChild(dialog);
    dialog.showModal();
    keep.focus();
  });
}

/** Post the fields to `action` as a form, leaving the page for the server's answer. */
function postResult(action, fields) {
  const form = el("form", {method: "post", action, hidden: true});
  for (const [name, value] of Object.entries(fields)) {
    const input = el("input", {type: "hidden", name});
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}

/**
 * Sends the files with an UploadQueue and draws it: one <progress> per file plus one overall.
 * options: parallel, retryDelay, loginUrl, datapackUrl(id), pendingUrl(id), title, leftOut,
 * apiCalls, onComplete(sizes), onCancelled(sizes) (after the user confirmed a Cancel).
 */
export class Transfer {
  constructor(root, datapackId, uploads, options) {
    this.root = root;
    this.datapackId = datapackId;
    this.options = options;
    this.apiCalls = (options.apiCalls || []).slice();  // the portal's calls to repovizz2, when it shows them
    this.samples = [];
    this.renderTimer = null;
    this.queue = new UploadQueue(uploads, {
      parallel: options.parallel,
      retryDelay: options.retryDelay,
      send: putFile,
      checkArrived: (item) => this.checkArrived(item),
      events: {
        change: (item) => this.changed(item),
        retrying: (item, ms) => this.retrying(item, ms),
        done: (item, body) => this.done(item, body),
        failed: (item) => this.announce(item.file.path + " failed: " + item.error +
          ". Use its Retry button to send it again."),
        loggedOut: (body) => this.loggedOut(body),
        finished: (failed) => this.finished(failed),
      },
    });
    this.build();
  }

  get items() {
    return this.queue.items;
  }

  build() {
    const root = this.root;
    root.textContent = "";
    root.hidden = false;
    this.status = el("p", {className: "transfer-status", role: "status", "aria-live": "polite", "aria-atomic": "true"});
    this.overallBar = el("progress", {id: "overall-progress", max: this.queue.total || 1, value: 0,
      "aria-describedby": "overall-text"});
    this.overallText = el("span", {id: "overall-text", className: "progress-text"});
    this.cancelButton = el("button", {type: "button", className: "button secondary", id: "transfer-cancel", text: "Cancel"});
    this.cancelButton.addEventListener("click", () => this.askToCancel());
    this.list = el("ul", {className: "transfer-files", "aria-label": "Files"});
    this.rows = this.items.map((item) => {
      const row = new FileRow(item, (failed) => this.retry(failed));
      this.list.appendChild(row.node);
      return row;
    });
    this.heading = el("h2", {id: "transfer-title", tabindex: "-1", text: this.options.title || "Uploading"});
    root.appendChild(this.heading);
    const leftOut = leftOutNote(this.options.leftOut);
    if (leftOut) root.appendChild(el("p", {className: "left-out", text: leftOut}));
    root.appendChild(this.status);
    root.appendChild(el("div", {className: "transfer-overall"}, [
      el("label", {"for": "overall-progress", text: "Whole datapack"}), this.overallBar, this.overallText,
    ]));
    root.appendChild(el("p", {className: "transfer-actions"}, [this.cancelButton]));
    root.appendChild(this.list);
    this.outcome = el("div", {className: "transfer-outcome"});
    root.appendChild(this.outcome);
    this.render();
  }

  start() {
    this.started = Date.now();
    // Leaving the page would abort the uploads in flight: ask first.
    window.addEventListener("beforeunload", (event) => {
      if (this.queue.stopped || this.queue.finished || !this.queue.busy()) return;
      event.preventDefault();
      event.returnValue = "";
    });
    this.heading.focus();
    const count = this.items.length;
    this.announce("Uploading " + count + " file" + (count !== 1 ? "s" : "") + " (" + humanSize(this.queue.total) +
      "), " + Math.min(this.queue.parallel, count) + " at a time.");
    this.queue.start();
  }

  announce(text) {
    this.status.textContent = text;
  }

  changed(item) {
    this.rows[item.index].show(item);
    this.scheduleRender();
  }

  retrying(item, ms) {
    const wait = humanDuration(ms / 1000);
    this.rows[item.index].show(item, "retrying in " + wait);
    this.announce(item.file.path + ": " + item.error + ". Retrying in " + wait + ".");
  }

  checkArrived(item) {
    this.rows[item.index].show(item, "checking");
    const upload = item.file;
    return postJSON(this.options.pendingUrl(this.datapackId), {files: [{path: upload.path, size: item.size}]})
      .then((answer) => stillPending(answer, upload.link), () => null);
  }

  done(item, body) {
    if (Array.isArray(body.api_calls)) this.apiCalls = this.apiCalls.concat(body.api_calls);
    this.announce(item.file.path + " uploaded (" + this.queue.count("uploaded") + " of " + this.items.length + ").");
    this.render();
  }

  retry(item) {
    if (item.state !== "failed") return;
    this.outcome.textContent = "";
    this.cancelButton.hidden = false;
    this.announce("Retrying " + item.file.path + ".");
    this.queue.retry(item);
  }

  /** {link: bytes} of the files uploaded (all of them once the transfer is complete). */
  sizes() {
    const sizes = {};
    for (const item of this.items) if (item.state === "uploaded") sizes[item.file.link] = item.size;
    return sizes;
  }

  datapackLink(text) {
    return el("a", {href: this.options.datapackUrl(this.datapackId), text});
  }

  askToCancel() {
    if (this.queue.stopped || this.asking) return;
    this.asking = true;
    confirmCancel(this.queue.count("uploaded"), this.items.length).then((stop) => {
      this.asking = false;
      if (stop) this.cancel();
      else this.cancelButton.focus();
    });
  }

  /** Stop now (the user confirmed): what was sent stays; then the page that says what is in repovizz2. */
  cancel() {
    if (this.queue.stopped) return;
    this.queue.cancel();
    this.cancelButton.hidden = true;
    const uploaded = this.queue.count("uploaded");
    const message = "Cancelled: " + uploaded + " of " + this.items.length + " files were uploaded and stay uploaded.";
    this.announce(message);
    this.outcome.textContent = "";
    this.outcome.appendChild(el("p", {className: "transfer-cancelled"}, [
      message + " ", this.datapackLink("Open the datapack page"),
      " to send the " + (this.items.length - uploaded) + " still pending.",
    ]));
    this.render();
    if (this.options.onCancelled) this.options.onCancelled(this.sizes(), this);
  }

  loggedOut(body) {
    const datapackPath = new URL(this.options.datapackUrl(this.datapackId), window.location.href).pathname;
    const href = loginHref((body && body.login) || this.options.loginUrl, datapackPath, window.location.href);
    this.cancelButton.hidden = true;
    this.announce("Your repovizz2 login has expired: nothing more was sent.");
    this.outcome.textContent = "";
    this.outcome.appendChild(el("section", {className: "problems js-login", role: "alert"}, [
      el("h2", {text: "Your repovizz2 login has expired"}),
      el("p", {}, [
        this.queue.count("uploaded") + " of " + this.items.length + " files were uploaded before it expired. ",
        el("a", {href, className: "login-again", text: "Log in again"}),
        " to return to the datapack page and send the rest.",
      ]),
    ]));
    this.render();
  }

  finished(failed) {
    this.render();
    this.cancelButton.hidden = true;
    if (!failed) {
      this.announce("All " + this.items.length + " files were uploaded.");
      this.options.onComplete(this.sizes());
      return;
    }
    this.announce(failed + " file" + (failed !== 1 ? "s" : "") + " could not be uploaded.");
    this.outcome.textContent = "";
    this.outcome.appendChild(el("p", {className: "transfer-failed"}, [
      failed + " of " + this.items.length + " files failed after " + (RETRIES + 1) +
      " tries. Use Retry beside each, or ", this.datapackLink("open the datapack page"), " to send them later.",
    ]));
  }

  scheduleRender() {
    if (this.renderTimer) return;
    this.renderTimer = window.setTimeout(() => {
      this.renderTimer = null;
      this.render();
    }, 100);
  }

  speed(loaded) {
    const now = Date.now();
    this.samples.push({t: now, bytes: loaded});
    while (this.samples.length > 2 && now - this.samples[0].t > 5000) this.samples.shift();
    const first = this.samples[0];
    let seconds = (now - first.t) / 1000;
    if (seconds < 0.5) {
      seconds = (now - this.started) / 1000;
      return seconds > 0.2 ? loaded / seconds : 0;
    }
    return Math.max(0, (loaded - first.bytes) / seconds);
  }

  render() {
    this.items.forEach((item) => this.rows[item.index].render(item));
    const loaded = this.queue.loaded;
    const total = this.queue.total;
    this.overallBar.value = loaded;
    let text = humanSize(loaded) + " of " + humanSize(total) + " (" + percent(loaded, total) + "%)";
    if (this.started && loaded < total && !this.queue.stopped && this.queue.count("sending") > 0) {
      const speed = this.speed(loaded);
      if (speed > 0) {
        const left = (total - loaded) / speed;
        text += " · " + humanSize(speed) + "/s · " + (left < 1 ? "less than 1 s" : "about " + humanDuration(left)) + " left";
      }
    } else if (this.started && loaded >= total) {
      const took = (Date.now() - this.started) / 1000;
      text += " · done in " + (took < 1 ? "less than 1 s" : humanDuration(took));
    }
    this.overallText.textContent = text;
  }
}

/**
 * Land on the server-rendered result page: it is given the document, the sizes sent, the files left
 * out, whether the user cancelled, and the calls to repovizz2 the portal reported (when it shows them).
 */
function showResult(resultPattern, datapackId, fields) {
  const posted = {csrf_token: csrfToken(), document: fields.document ? JSON.stringify(fields.document) : "",
                  sizes: JSON.stringify(fields.sizes)};
  if (fields.leftOut && fields.leftOut.length) posted.left_out = JSON.stringify(fields.leftOut);
  if (fields.apiCalls && fields.apiCalls.length) posted.api_calls = JSON.stringify(fields.apiCalls);
  if (fields.cancelled) posted.cancelled = "1";
  postResult(resultPattern.replace("DATAPACK_ID", encodeURIComponent(datapackId)), posted);
}

/**
 * Send the files of a datapack the API has created (or listed as pending), with the progress UI.
 * Used by upload.js (the upload and datapack pages) and by builder.js.
 *
 * options:
 *   container    the element the progress UI is drawn into (emptied and shown)
 *   datapackId   the datapack the files belong to
 *   uploads      the API's list: [{link, path, size, url}, ...]
 *   files        Map (or plain object) from an upload's `path` to its File (or a file of a .zip,
 *                with size, type and blob()); uploads without one are left out
 *   settings     optional element whose data-parallel, data-retry-delay, data-login-url and
 *                data-datapack-url give parallel, retryDelay, loginUrl and datapackUrl(id)
 *   parallel, retryDelay, loginUrl, datapackUrl(id)   given directly (they win over settings)
 *   title        the heading over the progress bars
 *   apiCalls     the calls to repovizz2 the create answer listed (api_calls), posted on to the result page
 *   leftOut      paths of chosen files the upload leaves out (listed under the heading and on the result page)
 *   onComplete(sizes, transfer)   called once every file is uploaded (sizes: {link: bytes}); or
 *   resultUrl + document          without onComplete: post the document and the sizes to resultUrl
 *                                 (DATAPACK_ID in it is replaced) and land on that result page
 *                                 (document null after a resume: the portal reads the datapack);
 *                                 a confirmed Cancel lands there too, as a cancelled upload
 *   pendingUrl(id)   the portal's pending listing, asked after a 404 (default from settings)
 * Returns the running Transfer (its cancel() and announce(text) may be used).
 */
export function startTransfer(options) {
  const settings = transferSettings(options.settings || document.createElement("div"));  // its defaults without one
  const byPath = filesByPath(options.files || {});
  const leftOut = options.leftOut || [];
  let transfer = null;
  const land = (sizes, cancelled) => showResult(options.resultUrl || "/datapacks/DATAPACK_ID/result",
    options.datapackId, {document: options.document, sizes, leftOut, apiCalls: transfer.apiCalls, cancelled});
  const onComplete = options.onComplete || ((sizes) => land(sizes, false));
  const onCancelled = options.onComplete && !options.resultUrl ? null : (sizes) => land(sizes, true);
  transfer = new Transfer(options.container, options.datapackId, attachFiles(options.uploads || [], byPath), {
    parallel: options.parallel || settings.parallel,
    retryDelay: options.retryDelay >= 0 ? options.retryDelay : settings.retryDelay,
    loginUrl: options.loginUrl || settings.loginUrl,
    datapackUrl: options.datapackUrl || settings.datapackUrl,
    pendingUrl: options.pendingUrl || settings.pendingUrl,
    leftOut,
    title: options.title,
    apiCalls: options.apiCalls,
    onComplete: (sizes) => onComplete(sizes, transfer),
    onCancelled,
  });
  transfer.start();
  return transfer;
}
