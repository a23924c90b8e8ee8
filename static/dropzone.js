/*
 * The drop zone of the upload forms: files and folders dropped there are kept (a file input cannot
 * hold a folder's relative paths); a single dropped .zip goes into the archive input instead.
 */
import { isIgnored, normalizePath } from "./paths.js";
import { humanSize } from "./sizes.js";

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
export function DropZone(zone, archiveInput) {
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
export function guardWindowDrops() {
  ["dragover", "drop"].forEach(function (type) {
    window.addEventListener(type, function (event) {
      if (!event.defaultPrevented) event.preventDefault();
    });
  });
}
