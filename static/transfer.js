/*
 * The transfer: files PUT to the portal a few at a time, with one <progress> per file plus one for
 * the whole datapack, retries with backoff, cancel, and the landing on the result page.
 * Used by upload.js (the upload and datapack pages) and builder.js through startTransfer.
 */
import { csrfToken, el, postJSON } from "./dom.js";
import { loginHref } from "./failures.js";
import { humanDuration, humanSize, percent } from "./sizes.js";
import {
  RETRIES, attachFiles, filesByPath, isRetryable, leftOutNote, retryDelay, stillPending, transferSettings,
} from "./transfer-rules.js";

// ---------------------------------------------------------------- the transfer (queue + progress UI)

/**
 * Sends files with PUT, `parallel` at a time, and shows one <progress> per file plus one overall.
 * options: parallel, retryDelay, loginUrl, datapackUrl(id), pendingUrl(id), onComplete(sizes), title,
 * leftOut (paths of chosen files the upload leaves out).
 */
export function Transfer(root, datapackId, uploads, options) {
  this.root = root;
  this.datapackId = datapackId;
  this.options = options;
  this.parallel = Math.max(1, options.parallel || 4);
  this.items = uploads.map(function (upload, index) {
    return {index: index, upload: upload, file: upload.file, size: upload.file.size, loaded: 0,
      state: "queued", attempt: 0, xhr: null, timer: null, error: ""};
  });
  this.total = this.items.reduce(function (sum, item) { return sum + item.size; }, 0);
  this.samples = [];
  this.apiCalls = (options.apiCalls || []).slice();  // the portal's calls to repovizz2, when it shows them
  this.stopped = false;
  this.renderTimer = null;
  this.build();
}

Transfer.prototype.build = function () {
  var self = this;
  var root = this.root;
  root.textContent = "";
  root.hidden = false;
  this.status = el("p", {className: "transfer-status", role: "status", "aria-live": "polite", "aria-atomic": "true"});
  this.overallBar = el("progress", {id: "overall-progress", max: this.total || 1, value: 0,
    "aria-describedby": "overall-text"});
  this.overallText = el("span", {id: "overall-text", className: "progress-text"});
  this.cancelButton = el("button", {type: "button", className: "button secondary", id: "transfer-cancel", text: "Cancel"});
  this.cancelButton.addEventListener("click", function () { self.cancel(); });
  this.list = el("ul", {className: "transfer-files", "aria-label": "Files"});
  this.items.forEach(function (item) {
    var id = "file-progress-" + item.index;
    item.bar = el("progress", {id: id, max: item.size || 1, value: 0, "aria-describedby": id + "-text"});
    item.text = el("span", {id: id + "-text", className: "progress-text"});
    item.stateLabel = el("span", {className: "status queued", text: "waiting"});
    item.retryButton = el("button", {type: "button", className: "button secondary retry", hidden: true,
      text: "Retry", "aria-label": "Retry " + item.upload.path});
    item.retryButton.addEventListener("click", function () { self.retry(item); });
    item.row = el("li", {className: "transfer-file", "data-link": item.upload.link, "data-state": "queued"}, [
      el("label", {"for": id, className: "file-name"}, [el("code", {text: item.upload.path})]),
      item.bar, item.text, " ", item.stateLabel, " ", item.retryButton
    ]);
    self.list.appendChild(item.row);
  });
  this.heading = el("h2", {id: "transfer-title", tabindex: "-1", text: this.options.title || "Uploading"});
  root.appendChild(this.heading);
  var leftOut = leftOutNote(this.options.leftOut);
  if (leftOut) root.appendChild(el("p", {className: "left-out", text: leftOut}));
  root.appendChild(this.status);
  root.appendChild(el("div", {className: "transfer-overall"}, [
    el("label", {"for": "overall-progress", text: "Whole datapack"}), this.overallBar, this.overallText
  ]));
  root.appendChild(el("p", {className: "transfer-actions"}, [this.cancelButton]));
  root.appendChild(this.list);
  this.outcome = el("div", {className: "transfer-outcome"});
  root.appendChild(this.outcome);
  this.render();
};

Transfer.prototype.start = function () {
  var self = this;
  this.started = Date.now();
  // Leaving the page would abort the uploads in flight: ask first.
  window.addEventListener("beforeunload", function (event) {
    if (self.stopped || self.finished || !self.busy()) return;
    event.preventDefault();
    event.returnValue = "";
  });
  this.heading.focus();
  this.announce("Uploading " + this.items.length + " file" + (this.items.length !== 1 ? "s" : "") +
    " (" + humanSize(this.total) + "), " + Math.min(this.parallel, this.items.length) + " at a time.");
  this.pump();
};

Transfer.prototype.announce = function (text) {
  this.status.textContent = text;
};

Transfer.prototype.active = function () {
  return this.items.filter(function (item) { return item.state === "sending"; }).length;
};

Transfer.prototype.pump = function () {
  if (this.stopped) return;
  var free = this.parallel - this.active();
  for (var i = 0; i < this.items.length && free > 0; i++) {
    if (this.items[i].state === "queued") {
      this.send(this.items[i]);
      free -= 1;
    }
  }
  this.checkFinished();
};

Transfer.prototype.send = function (item) {
  var self = this;
  var xhr = new XMLHttpRequest();
  var url = new URL(item.upload.url, window.location.href);
  if (item.file.type) url.searchParams.set("mime", item.file.type);
  item.state = "sending";
  item.attempt += 1;
  item.loaded = 0;
  item.error = "";
  item.xhr = xhr;
  this.setState(item, "sending", item.attempt > 1 ? "sending (try " + item.attempt + ")" : "sending");
  xhr.open("PUT", url.pathname + url.search);
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.setRequestHeader("Accept", "application/json");
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.responseType = "text";
  xhr.upload.onprogress = function (event) {
    if (item.xhr !== xhr) return;
    // The last few bytes count only once the portal has passed the file on to repovizz2.
    item.loaded = Math.min(event.loaded, Math.max(0, item.size - 1));
    self.scheduleRender();
  };
  xhr.onload = function () {
    if (item.xhr !== xhr) return;
    item.xhr = null;
    var body = null;
    try { body = JSON.parse(xhr.responseText); } catch (ignored) { body = null; }
    if (xhr.status === 200 && body && body.ref) {
      self.done(item, body);
    } else if (xhr.status === 401) {
      self.loggedOut(body);
    } else if (xhr.status === 404) {
      self.checkArrived(item, (body && body.error) || "the portal answered 404");
    } else {
      self.failed(item, xhr.status, (body && body.error) || ("the portal answered " + xhr.status));
    }
  };
  xhr.onerror = function () {
    if (item.xhr !== xhr) return;
    item.xhr = null;
    self.failed(item, 0, "the connection to the portal failed");
  };
  xhr.ontimeout = xhr.onerror;
  xhr.onabort = function () {
    if (item.xhr === xhr) item.xhr = null;
  };
  xhr.send(item.file);
};

Transfer.prototype.setState = function (item, state, label) {
  item.state = state;
  item.row.setAttribute("data-state", state);
  item.stateLabel.className = "status " + state;
  item.stateLabel.textContent = label || state;
  item.retryButton.hidden = state !== "failed";
  this.scheduleRender();
};

/**
 * A 404: no data node has the file's link any more. When an earlier try reached repovizz2 and only
 * its answer was lost, the link was rewritten and the file is there: the portal's pending listing
 * tells. Uploaded when the link is no longer pending; failed when it still is or nobody can tell.
 */
Transfer.prototype.checkArrived = function (item, message) {
  var self = this;
  this.setState(item, "sending", "checking");
  postJSON(this.options.pendingUrl(this.datapackId), {files: [{path: item.upload.path, size: item.size}]})
    .then(function (answer) { return stillPending(answer, item.upload.link); }, function () { return null; })
    .then(function (pending) {
      if (self.stopped || item.state !== "sending") return;
      if (pending === false) self.done(item, {ref: null});
      else self.failed(item, 404, message);
    });
};

Transfer.prototype.done = function (item, body) {
  item.loaded = item.size;
  item.ref = body.ref;
  if (Array.isArray(body.api_calls)) this.apiCalls = this.apiCalls.concat(body.api_calls);
  this.setState(item, "uploaded", "uploaded");
  this.announce(item.upload.path + " uploaded (" + this.count("uploaded") + " of " + this.items.length + ").");
  this.render();
  this.pump();
};

Transfer.prototype.failed = function (item, status, message) {
  var self = this;
  item.loaded = 0;
  item.error = message;
  if (this.stopped) return;
  if (isRetryable(status) && item.attempt <= RETRIES) {
    var delay = retryDelay(this.options.retryDelay, item.attempt);
    this.setState(item, "waiting", "retrying in " + humanDuration(delay / 1000));
    this.announce(item.upload.path + ": " + message + ". Retrying in " + humanDuration(delay / 1000) + ".");
    item.timer = window.setTimeout(function () {
      item.timer = null;
      if (self.stopped || item.state !== "waiting") return;
      item.state = "queued";
      self.pump();
    }, delay);
    this.pump();
    return;
  }
  this.setState(item, "failed", "failed");
  this.announce(item.upload.path + " failed: " + message + ". Use its Retry button to send it again.");
  this.pump();
};

Transfer.prototype.retry = function (item) {
  if (this.stopped || item.state !== "failed") return;
  item.attempt = 0;
  this.outcome.textContent = "";
  this.cancelButton.hidden = false;
  this.setState(item, "queued", "waiting");
  this.announce("Retrying " + item.upload.path + ".");
  this.pump();
};

Transfer.prototype.count = function (state) {
  return this.items.filter(function (item) { return item.state === state; }).length;
};

Transfer.prototype.stopAll = function () {
  this.stopped = true;
  this.items.forEach(function (item) {
    if (item.timer) window.clearTimeout(item.timer);
    item.timer = null;
    if (item.xhr) {
      var xhr = item.xhr;
      item.xhr = null;
      xhr.abort();
    }
  });
  this.cancelButton.hidden = true;
};

Transfer.prototype.markUnsent = function (label) {
  var self = this;
  this.items.forEach(function (item) {
    if (item.state !== "uploaded") {
      item.loaded = 0;
      self.setState(item, "pending", label);
      item.retryButton.hidden = true;
    }
  });
  this.render();
};

Transfer.prototype.datapackLink = function (text) {
  return el("a", {href: this.options.datapackUrl(this.datapackId), text: text});
};

Transfer.prototype.cancel = function () {
  if (this.stopped) return;
  this.stopAll();
  this.markUnsent("not sent");
  var uploaded = this.count("uploaded");
  var rest = this.items.length - uploaded;
  var message = "Cancelled: " + uploaded + " of " + this.items.length + " files were uploaded and stay uploaded.";
  this.announce(message);
  this.outcome.textContent = "";
  this.outcome.appendChild(el("p", {className: "transfer-cancelled"}, [
    message + " ", this.datapackLink("Open the datapack page"),
    " to send the " + rest + " still pending."
  ]));
};

Transfer.prototype.loggedOut = function (body) {
  if (this.stopped) return;
  this.stopAll();
  this.markUnsent("not sent");
  var datapackPath = new URL(this.options.datapackUrl(this.datapackId), window.location.href).pathname;
  var href = loginHref((body && body.login) || this.options.loginUrl, datapackPath, window.location.href);
  this.announce("Your repovizz2 login has expired: nothing more was sent.");
  this.outcome.textContent = "";
  this.outcome.appendChild(el("section", {className: "problems js-login", role: "alert"}, [
    el("h2", {text: "Your repovizz2 login has expired"}),
    el("p", {}, [
      this.count("uploaded") + " of " + this.items.length + " files were uploaded before it expired. ",
      el("a", {href: href, className: "login-again", text: "Log in again"}),
      " to return to the datapack page and send the rest."
    ])
  ]));
};

Transfer.prototype.busy = function () {
  return this.items.some(function (item) {
    return item.state === "queued" || item.state === "sending" || item.state === "waiting";
  });
};

Transfer.prototype.checkFinished = function () {
  if (this.stopped || this.finished) return;
  if (this.busy()) return;
  var failed = this.count("failed");
  this.render();
  if (!failed) {
    this.finished = true;
    this.cancelButton.hidden = true;
    this.announce("All " + this.items.length + " files were uploaded.");
    var sizes = {};
    this.items.forEach(function (item) { sizes[item.upload.link] = item.size; });
    this.options.onComplete(sizes);
    return;
  }
  this.cancelButton.hidden = true;
  this.announce(failed + " file" + (failed !== 1 ? "s" : "") + " could not be uploaded.");
  this.outcome.textContent = "";
  this.outcome.appendChild(el("p", {className: "transfer-failed"}, [
    failed + " of " + this.items.length + " files failed after " + (RETRIES + 1) +
    " tries. Use Retry beside each, or ", this.datapackLink("open the datapack page"),
    " to send them later."
  ]));
};

Transfer.prototype.scheduleRender = function () {
  var self = this;
  if (this.renderTimer) return;
  this.renderTimer = window.setTimeout(function () {
    self.renderTimer = null;
    self.render();
  }, 100);
};

Transfer.prototype.speed = function (loaded) {
  var now = Date.now();
  this.samples.push({t: now, bytes: loaded});
  while (this.samples.length > 2 && now - this.samples[0].t > 5000) this.samples.shift();
  var first = this.samples[0];
  var seconds = (now - first.t) / 1000;
  if (seconds < 0.5) {
    seconds = (now - this.started) / 1000;
    return seconds > 0.2 ? loaded / seconds : 0;
  }
  return Math.max(0, (loaded - first.bytes) / seconds);
};

Transfer.prototype.render = function () {
  var loaded = 0;
  this.items.forEach(function (item) {
    loaded += item.loaded;
    item.bar.value = item.loaded;
    item.text.textContent = humanSize(item.loaded) + " of " + humanSize(item.size) +
      " (" + percent(item.loaded, item.size) + "%)" + (item.error ? " — " + item.error : "");
  });
  this.overallBar.value = loaded;
  var text = humanSize(loaded) + " of " + humanSize(this.total) + " (" + percent(loaded, this.total) + "%)";
  if (this.started && loaded < this.total && !this.stopped && this.active() > 0) {
    var speed = this.speed(loaded);
    if (speed > 0) {
      var left = (this.total - loaded) / speed;
      text += " · " + humanSize(speed) + "/s · " + (left < 1 ? "less than 1 s" : "about " + humanDuration(left)) + " left";
    }
  } else if (this.started && loaded >= this.total) {
    var took = (Date.now() - this.started) / 1000;
    text += " · done in " + (took < 1 ? "less than 1 s" : humanDuration(took));
  }
  this.overallText.textContent = text;
};

function postResult(action, fields) {
  var form = el("form", {method: "post", action: action, hidden: true});
  Object.keys(fields).forEach(function (name) {
    var input = el("input", {type: "hidden", name: name});
    input.value = fields[name];
    form.appendChild(input);
  });
  document.body.appendChild(form);
  form.submit();
}

/**
 * Land on the server-rendered result page: it is given the document and the sizes sent, and the
 * calls to repovizz2 the portal reported for the create and each file (when it shows them).
 */
function showResult(resultPattern, datapackId, documentValue, sizes, apiCalls) {
  var fields = {csrf_token: csrfToken(), document: documentValue ? JSON.stringify(documentValue) : "",
                sizes: JSON.stringify(sizes)};
  if (apiCalls && apiCalls.length) fields.api_calls = JSON.stringify(apiCalls);
  postResult(resultPattern.replace("DATAPACK_ID", encodeURIComponent(datapackId)), fields);
}

/**
 * Send the files of a datapack the API has created (or listed as pending), with the progress UI.
 * Used by upload.js (the upload and datapack pages) and by builder.js.
 *
 * options:
 *   container    the element the progress UI is drawn into (emptied and shown)
 *   datapackId   the datapack the files belong to
 *   uploads      the API's list: [{link, path, size, url}, ...]
 *   files        Map (or plain object) from an upload's `path` to its File; uploads without one are left out
 *   settings     optional element whose data-parallel, data-retry-delay, data-login-url and
 *                data-datapack-url give parallel, retryDelay, loginUrl and datapackUrl(id)
 *   parallel, retryDelay, loginUrl, datapackUrl(id)   given directly (they win over settings)
 *   title        the heading over the progress bars
 *   apiCalls     the calls to repovizz2 the create answer listed (api_calls), posted on to the result page
 *   onComplete(sizes, transfer)   called once every file is uploaded (sizes: {link: bytes}); or
 *   resultUrl + document          without onComplete: post the document and the sizes to resultUrl
 *                                 (DATAPACK_ID in it is replaced) and land on that result page
 *                                 (document null after a resume: the portal reads the datapack)
 *   leftOut      paths of chosen files the upload leaves out (listed under the heading)
 *   pendingUrl(id)   the portal's pending listing, asked after a 404 (default from settings)
 * Returns the running Transfer (its cancel() and announce(text) may be used).
 */
export function startTransfer(options) {
  var settings = transferSettings(options.settings || document.createElement("div"));  // its defaults without one
  var byPath = filesByPath(options.files || {});
  var onComplete = options.onComplete || function (sizes, transfer) {
    showResult(options.resultUrl || "/datapacks/DATAPACK_ID/result", options.datapackId, options.document, sizes,
      transfer.apiCalls);
  };
  var transfer = new Transfer(options.container, options.datapackId, attachFiles(options.uploads || [], byPath), {
    parallel: options.parallel || settings.parallel,
    retryDelay: options.retryDelay >= 0 ? options.retryDelay : settings.retryDelay,
    loginUrl: options.loginUrl || settings.loginUrl,
    datapackUrl: options.datapackUrl || settings.datapackUrl,
    pendingUrl: options.pendingUrl || settings.pendingUrl,
    leftOut: options.leftOut || [],
    title: options.title,
    apiCalls: options.apiCalls,
    onComplete: function (sizes) { onComplete(sizes, transfer); }
  });
  transfer.start();
  return transfer;
}
