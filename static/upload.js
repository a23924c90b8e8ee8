/*
 * The enhanced upload: the browser sends each file to the portal itself, with progress.
 *
 * Loaded with `defer` by upload.html (#upload-form) and datapack.html (#pending-form). Without
 * JavaScript both forms still post as plain multipart forms; with it:
 *   1. the document and the list of files (relative path + size, no bytes) go to the portal's JSON
 *      API, which applies the datapack rules and creates the datapack (or lists pending links);
 *   2. each file is PUT as the raw request body with XMLHttpRequest (upload progress events),
 *      a few at a time, retried with exponential backoff when the portal or repovizz2 fails;
 *   3. the browser lands on the server-rendered result page (or the datapack page, when resuming).
 * build.html loads it too (before builder.js): the builder sends its files through
 * window.PortalUpload.startTransfer, so both get the same progress bars, retries, cancel and result page.
 * No inline script or style: the page can run under a Content-Security-Policy without 'unsafe-inline'.
 */
(function () {
  "use strict";

  var RETRIES = 3;                  // automatic retries after the first failed attempt of a file
  var RETRY_BASE_MS = 1000;         // 1 s, 2 s, 4 s (with some jitter); form data-retry-delay overrides
  var RETRYABLE = [0, 408, 429, 500, 502, 503, 504];
  var IGNORED_NAMES = [".DS_Store", "Thumbs.db", "desktop.ini"];

  // ---------------------------------------------------------------- small helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** Sizes as the server writes them (portal/uploads.py: powers of 1000). */
  function humanSize(size) {
    var value = size;
    var units = ["bytes", "KB", "MB", "GB"];
    for (var i = 0; i < units.length; i++) {
      if (value < 1000 || units[i] === "GB") {
        return units[i] === "bytes" ? Math.round(value) + " bytes" : value.toFixed(1) + " " + units[i];
      }
      value /= 1000;
    }
    return size + " bytes";
  }

  function humanDuration(seconds) {
    if (!isFinite(seconds)) return "";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function percent(done, total) {
    return total > 0 ? Math.floor((100 * done) / total) : 100;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /**
   * A relative path with forward slashes, no leading slash, no "." parts ("a/./b" → "a/b").
   * With `composed`, also in composed unicode (NFC), as the portal compares paths (macOS hands
   * out decomposed names).
   */
  function normalizePath(path, composed) {
    var parts = [];
    String(path || "").replace(/\\/g, "/").split("/").forEach(function (part) {
      if (part === "" || part === ".") return;
      if (part === ".." && parts.length && parts[parts.length - 1] !== "..") parts.pop();
      else parts.push(part);
    });
    var joined = parts.join("/");
    return composed && joined.normalize ? joined.normalize("NFC") : joined;
  }

  function baseName(path) {
    var parts = normalizePath(path).split("/");
    return parts[parts.length - 1];
  }

  /** Files a desktop adds on its own (same rule as portal/archive.py). */
  function isIgnored(path) {
    var name = baseName(path);
    return normalizePath(path).indexOf("__MACOSX/") === 0 || IGNORED_NAMES.indexOf(name) >= 0 ||
      name.indexOf("._") === 0;
  }

  /** The path the browser gives a chosen file: relative to the chosen folder, or its name. */
  function chosenPath(file) {
    return file.webkitRelativePath || file.name;
  }

  function filesOf(input) {
    return input && input.files ? Array.prototype.slice.call(input.files) : [];
  }

  function readText(file) {
    if (file.text) return file.text();
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsText(file);
    });
  }

  /** POST JSON to the portal; resolves {status, body} (body null when the answer is not JSON). */
  function postJSON(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        return {status: response.status, body: body};
      });
    });
  }

  /** The login URL with `next` pointing back to `nextPath`. */
  function loginHref(loginUrl, nextPath) {
    var url = new URL(loginUrl || "/auth/login", window.location.href);
    if (nextPath) url.searchParams.set("next", nextPath);
    return url.pathname + url.search;
  }

  // ---------------------------------------------------------------- messages on the page

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

  function showMessage(anchor, section) {
    removeMessages(document.querySelector("main") || document.body);
    anchor.parentNode.insertBefore(section, anchor);
    if (section.scrollIntoView) section.scrollIntoView({block: "nearest"});
  }

  // ---------------------------------------------------------------- drag and drop

  /** Every file under a FileSystemEntry, with its path relative to the drop (folder name first). */
  function walkEntry(entry) {
    if (!entry) return Promise.resolve([]);
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (file) {
          resolve([{file: file, path: normalizePath(entry.fullPath || file.name)}]);
        }, function () { resolve([]); });
      });
    }
    if (entry.isDirectory) {
      var reader = entry.createReader();
      var entries = [];
      // readEntries answers in batches (100 at a time in Chromium) until it answers an empty one.
      var readBatch = function () {
        return new Promise(function (resolve) {
          reader.readEntries(resolve, function () { resolve([]); });
        }).then(function (batch) {
          if (!batch.length) return entries;
          entries = entries.concat(batch);
          return readBatch();
        });
      };
      return readBatch().then(function (all) {
        return Promise.all(all.map(walkEntry)).then(function (lists) {
          return [].concat.apply([], lists);
        });
      });
    }
    return Promise.resolve([]);
  }

  function droppedFiles(dataTransfer) {
    var items = dataTransfer.items ? Array.prototype.slice.call(dataTransfer.items) : [];
    if (items.length && items[0].webkitGetAsEntry) {
      // Take every entry (and plain file) synchronously: the list is emptied once the event returns.
      var pending = items.filter(function (item) { return item.kind === "file"; }).map(function (item) {
        var entry = item.webkitGetAsEntry();
        if (entry) return walkEntry(entry);
        var file = item.getAsFile();
        return Promise.resolve(file ? [{file: file, path: file.name}] : []);
      });
      return Promise.all(pending).then(function (lists) { return [].concat.apply([], lists); });
    }
    return Promise.resolve(Array.prototype.map.call(dataTransfer.files || [], function (file) {
      return {file: file, path: file.name};
    }));
  }

  /**
   * The drop zone of a form: files and folders dropped there are kept here (a file input cannot
   * hold a folder's relative paths). A single dropped .zip goes into the archive input instead.
   */
  function DropZone(zone, archiveInput) {
    var self = this;
    this.zone = zone;
    this.items = [];
    this.summary = zone.querySelector(".drop-summary");
    this.clearButton = zone.querySelector(".drop-clear");
    zone.hidden = false;
    var depth = 0;
    zone.addEventListener("dragenter", function (event) {
      event.preventDefault();
      depth += 1;
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      if (!event.dataTransfer) return;
      self.summarize("Reading the dropped files…");
      droppedFiles(event.dataTransfer).then(function (found) {
        found = found.filter(function (item) { return !isIgnored(item.path); });
        if (archiveInput && found.length === 1 && /\.zip$/i.test(found[0].path) && window.DataTransfer) {
          var transfer = new DataTransfer();
          transfer.items.add(found[0].file);
          archiveInput.files = transfer.files;
          self.summarize(found[0].path + " is set as the archive to upload.");
          return;
        }
        self.add(found);
      });
    });
    if (this.clearButton) {
      this.clearButton.addEventListener("click", function () {
        self.items = [];
        self.summarize("");
      });
    }
  }

  DropZone.prototype.add = function (found) {
    var known = {};
    this.items.forEach(function (item) { known[item.path] = true; });
    var added = found.filter(function (item) { return !known[item.path]; });
    this.items = this.items.concat(added);
    var total = this.items.reduce(function (sum, item) { return sum + item.file.size; }, 0);
    this.summarize(this.items.length ? this.items.length + " file" + (this.items.length !== 1 ? "s" : "") +
      " dropped (" + humanSize(total) + ")." : "Nothing usable was dropped.");
  };

  DropZone.prototype.summarize = function (text) {
    if (this.summary) this.summary.textContent = text;
    if (this.clearButton) this.clearButton.hidden = !this.items.length;
  };

  // Dropping a file anywhere else would make the browser open it and leave the page.
  function guardWindowDrops() {
    ["dragover", "drop"].forEach(function (type) {
      window.addEventListener(type, function (event) {
        if (!event.defaultPrevented) event.preventDefault();
      });
    });
  }

  // ---------------------------------------------------------------- the transfer (queue + progress UI)

  /**
   * Sends files with PUT, `parallel` at a time, and shows one <progress> per file plus one overall.
   * options: parallel, retryDelay, loginUrl, datapackUrl(id), onComplete(sizes), title.
   */
  function Transfer(root, datapackId, uploads, options) {
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

  Transfer.prototype.done = function (item, body) {
    item.loaded = item.size;
    item.ref = body.ref;
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
    var retryable = RETRYABLE.indexOf(status) >= 0;
    if (retryable && item.attempt <= RETRIES) {
      var delay = this.options.retryDelay * Math.pow(2, item.attempt - 1) * (0.8 + 0.4 * Math.random());
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
    var href = loginHref((body && body.login) || this.options.loginUrl, datapackPath);
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

  // ---------------------------------------------------------------- shared form plumbing

  function formOptions(form) {
    var parallel = parseInt(form.getAttribute("data-parallel"), 10);
    var delay = parseInt(form.getAttribute("data-retry-delay"), 10);
    var datapackPattern = form.getAttribute("data-datapack-url") || "/datapacks/DATAPACK_ID";
    return {
      parallel: parallel > 0 ? parallel : 4,
      retryDelay: delay >= 0 ? delay : RETRY_BASE_MS,
      loginUrl: form.getAttribute("data-login-url") || "/auth/login",
      datapackUrl: function (id) { return datapackPattern.replace("DATAPACK_ID", encodeURIComponent(id)); }
    };
  }

  function setBusy(form, busy) {
    Array.prototype.forEach.call(form.querySelectorAll("fieldset, button[type=submit]"), function (node) {
      node.disabled = busy;
    });
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  /** Match the API's answer back to the File objects by the path the browser gave. */
  function attachFiles(uploads, byPath) {
    return uploads.map(function (upload) {
      return {link: upload.link, path: upload.path, size: upload.size, url: upload.url, file: byPath[upload.path]};
    }).filter(function (upload) { return upload.file; });
  }

  function answerError(answer, fallback) {
    if (answer.body && answer.body.error) return answer.body.error;
    return fallback + " (the portal answered " + answer.status + ")";
  }

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

  /** Land on the server-rendered result page: it is given the document and the sizes sent. */
  function showResult(resultPattern, datapackId, documentValue, sizes) {
    postResult(resultPattern.replace("DATAPACK_ID", encodeURIComponent(datapackId)), {
      csrf_token: csrfToken(),
      document: JSON.stringify(documentValue),
      sizes: JSON.stringify(sizes)
    });
  }

  /**
   * Send the files of a datapack the API has created (or listed as pending), with the progress UI.
   * Used by the upload and datapack pages below and by builder.js (window.PortalUpload).
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
   *   onComplete(sizes, transfer)   called once every file is uploaded (sizes: {link: bytes}); or
   *   resultUrl + document          without onComplete: post the document and the sizes to resultUrl
   *                                 (DATAPACK_ID in it is replaced) and land on that result page
   * Returns the running Transfer (its cancel() and announce(text) may be used).
   */
  function startTransfer(options) {
    var settings = formOptions(options.settings || document.createElement("div"));  // its defaults without one
    var files = options.files || {};
    var byPath = {};
    if (typeof files.forEach === "function" && !Array.isArray(files)) files.forEach(function (file, path) { byPath[path] = file; });
    else byPath = files;
    var onComplete = options.onComplete || function (sizes) {
      showResult(options.resultUrl || "/datapacks/DATAPACK_ID/result", options.datapackId, options.document, sizes);
    };
    var transfer = new Transfer(options.container, options.datapackId, attachFiles(options.uploads || [], byPath), {
      parallel: options.parallel || settings.parallel,
      retryDelay: options.retryDelay >= 0 ? options.retryDelay : settings.retryDelay,
      loginUrl: options.loginUrl || settings.loginUrl,
      datapackUrl: options.datapackUrl || settings.datapackUrl,
      title: options.title,
      onComplete: function (sizes) { onComplete(sizes, transfer); }
    });
    transfer.start();
    return transfer;
  }

  // ---------------------------------------------------------------- the upload page

  /**
   * The datapack document among the files: a .json object with "info" and "children"; the
   * shallowest wins and two at the same depth are ambiguous (as portal/archive.py decides).
   * Files are read one folder level at a time, shallowest first, so deep sensor JSON is rarely read.
   */
  function findDocument(entries, maxJsonBytes) {
    var depthOf = function (entry) { return normalizePath(entry.path).split("/").length; };
    var levels = {};
    entries.forEach(function (entry) {
      if (!/\.json$/i.test(entry.path) || entry.file.size > maxJsonBytes) return;
      (levels[depthOf(entry)] = levels[depthOf(entry)] || []).push(entry);
    });
    var depths = Object.keys(levels).map(Number).sort(function (a, b) { return a - b; });

    var asDocument = function (entry) {
      return readText(entry.file).then(function (text) {
        try {
          var value = JSON.parse(text);
          if (value && typeof value === "object" && !Array.isArray(value) && "info" in value && "children" in value) {
            return {entry: entry, document: value};
          }
        } catch (ignored) { /* sensor streams are JSON too, or not JSON at all */ }
        return null;
      }, function () { return null; });
    };
    var readLevel = function (index) {
      if (index >= depths.length) {
        return Promise.reject({problems: ["no datapack document found: add the .json file that has 'info' and 'children'"]});
      }
      var found = [];
      return levels[depths[index]].reduce(function (chain, entry) {
        return chain.then(function () {
          return asDocument(entry).then(function (item) { if (item) found.push(item); });
        });
      }, Promise.resolve()).then(function () {
        if (!found.length) return readLevel(index + 1);
        if (found.length > 1) {
          throw {problems: ["several datapack documents were found (" + found.map(function (item) {
            return "'" + normalizePath(item.entry.path) + "'";
          }).sort().join(", ") + "): send one"]};
        }
        return found[0];
      });
    };
    return readLevel(0);
  }

  function readChosenDocument(file, maxJsonBytes, maxJsonKb) {
    if (file.size > maxJsonBytes) {
      return Promise.reject({problems: ["document: is larger than " + maxJsonKb + " KB"]});
    }
    return readText(file).then(function (text) {
      try {
        return JSON.parse(text);
      } catch (error) {
        throw {problems: ["document: is not valid JSON (" + error.message + ")"]};
      }
    });
  }

  function enhanceUploadForm(form) {
    var documentInput = form.querySelector('input[name="document"]');
    var filesInput = form.querySelector('input[name="files"]');
    var folderInput = form.querySelector('input[name="folder"]');
    var archiveInput = form.querySelector('input[name="archive"]');
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
      var options = formOptions(form);
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
      gotDocument.then(function (documentValue) {
        chosenDocument = documentValue;
        return postJSON(createUrl, {
          document: documentValue,
          files: entries.map(function (entry) { return {path: entry.path, size: entry.file.size}; })
        });
      }).then(function (answer) {
        if (answer.status === 201 && answer.body && answer.body.datapack_id) {
          status.remove();
          form.hidden = true;
          startTransfer({
            container: transferRoot,
            datapackId: answer.body.datapack_id,
            uploads: answer.body.uploads,
            files: filesByPath(entries),
            settings: form,
            title: "Uploading " + ((chosenDocument.info && chosenDocument.info.name) || "the datapack"),
            resultUrl: resultPattern,
            document: chosenDocument
          });
          return;
        }
        throw {answer: answer};
      }).catch(notStarted(form, status, form, options, window.location.pathname));
    });
  }

  function filesByPath(entries) {
    var byPath = {};
    entries.forEach(function (entry) { byPath[entry.path] = entry.file; });
    return byPath;
  }

  /** When the datapack could not be created (or resumed): the form is usable again, with the reason above `anchor`. */
  function notStarted(form, status, anchor, options, backTo) {
    return function (failure) {
      status.remove();
      setBusy(form, false);
      showFailure(anchor, failure, options, backTo);
    };
  }

  function statusLine(form, text) {
    var line = el("p", {className: "checking", role: "status", "aria-live": "polite", text: text});
    form.parentNode.insertBefore(line, form);
    return {remove: function () { if (line.parentNode) line.parentNode.removeChild(line); }};
  }

  function showFailure(anchor, failure, options, backTo) {
    if (failure && failure.problems) {
      showMessage(anchor, problemsSection(failure.problems));
      return;
    }
    var answer = failure && failure.answer;
    if (!answer) {
      showMessage(anchor, errorSection("The portal could not be reached",
        "Nothing was created. Check your connection and try again.", null));
      return;
    }
    var body = answer.body || {};
    if (answer.status === 422) {
      showMessage(anchor, problemsSection(body.problems && body.problems.length ? body.problems
        : [body.error || "the datapack breaks the rules"]));
    } else if (answer.status === 401) {
      showMessage(anchor, errorSection("Your repovizz2 login has expired", "Nothing was created.",
        {href: loginHref(body.login || options.loginUrl, backTo), text: "Log in again"}));
    } else if (answer.status === 409) {
      showMessage(anchor, errorSection("You already have a datapack with that name",
        (body.error ? body.error.replace(/\.$/, "") + ". " : "") + "Nothing new was created. Open the existing one, or give the " +
        "document another info.name and check it again.",
        body.existing_id ? {href: options.datapackUrl(body.existing_id), button: true,
          text: "Open the existing datapack and finish its pending files"} : null));
    } else if (answer.status === 400 && body.problems && body.problems.length) {
      showMessage(anchor, problemsSection(body.problems));
    } else {
      showMessage(anchor, errorSection(body.title || "The upload could not start",
        answerError(answer, "Nothing was sent"), null));
    }
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
      var options = formOptions(form);
      setBusy(form, true);
      var status = statusLine(form, "Looking for the pending files among the chosen ones…");
      var datapackHref = options.datapackUrl(datapackId);
      postJSON(pendingUrl, {
        files: entries.map(function (entry) { return {path: entry.path, size: entry.file.size}; })
      }).then(function (answer) {
        status.remove();
        if (answer.status === 200 && answer.body && answer.body.uploads) {
          form.hidden = true;
          startTransfer({
            container: transferRoot,
            datapackId: datapackId,
            uploads: answer.body.uploads,
            files: filesByPath(entries),
            settings: form,
            title: "Uploading the pending files",
            onComplete: function (sizes, transfer) {
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

  // ---------------------------------------------------------------- shared with builder.js

  /**
   * What other scripts of the portal use (builder.js, loaded after this file, both `defer`):
   *   csrfToken()                      the page's CSRF token (meta csrf-token)
   *   normalizePath(path, composed)    a relative path as the portal reads it (NFC when `composed`)
   *   startTransfer(options)           send the files of a created datapack with the progress UI
   *                                    (see startTransfer above for the options); returns the Transfer
   */
  window.PortalUpload = {
    csrfToken: csrfToken,
    normalizePath: normalizePath,
    startTransfer: startTransfer
  };

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
})();
