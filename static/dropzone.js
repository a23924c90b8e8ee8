/*
 * The drop zone of the upload forms: files and folders dropped there are kept (a file input cannot
 * hold a folder's relative paths); a single dropped .zip goes into the archive input instead.
 */
import { isIgnored, normalizePath } from "./paths.js";
import { humanSize } from "./sizes.js";

/** Every entry of a folder: readEntries answers in batches (100 at a time in Chromium) until an empty one. */
async function folderEntries(entry) {
  const reader = entry.createReader();
  const entries = [];
  for (;;) {
    const batch = await new Promise((resolve) => reader.readEntries(resolve, () => resolve([])));
    if (!batch.length) return entries;
    entries.push(...batch);
  }
}

/** Every file under a FileSystemEntry, with its path relative to the drop (folder name first). */
async function walkEntry(entry) {
  if (!entry) return [];
  if (entry.isFile) {
    return new Promise((resolve) => {
      entry.file((file) => resolve([{file, path: normalizePath(entry.fullPath || file.name)}]), () => resolve([]));
    });
  }
  if (entry.isDirectory) {
    const lists = await Promise.all((await folderEntries(entry)).map(walkEntry));
    return lists.flat();
  }
  return [];
}

async function droppedFiles(dataTransfer) {
  const items = dataTransfer.items ? Array.from(dataTransfer.items) : [];
  if (items.length && items[0].webkitGetAsEntry) {
    // Take every entry (and plain file) synchronously: the list is emptied once the event returns.
    const pending = items.filter((item) => item.kind === "file").map((item) => {
      const entry = item.webkitGetAsEntry();
      if (entry) return walkEntry(entry);
      const file = item.getAsFile();
      return Promise.resolve(file ? [{file, path: file.name}] : []);
    });
    return (await Promise.all(pending)).flat();
  }
  return Array.from(dataTransfer.files || [], (file) => ({file, path: file.name}));
}

/**
 * The drop zone of a form: files and folders dropped there are kept here (a file input cannot
 * hold a folder's relative paths). A single dropped .zip goes into the archive input instead.
 * onChange() is called whenever what the zone holds (or the archive input) changed.
 */
export class DropZone {
  constructor(zone, archiveInput, onChange) {
    this.zone = zone;
    this.archiveInput = archiveInput;
    this.onChange = onChange || (() => {});
    this.items = [];
    this.summary = zone.querySelector(".drop-summary");
    this.clearButton = zone.querySelector(".drop-clear");
    zone.hidden = false;
    let depth = 0;
    zone.addEventListener("dragenter", (event) => {
      event.preventDefault();
      depth += 1;
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove("dragging");
    });
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("dragging");
      if (event.dataTransfer) this.dropped(droppedFiles(event.dataTransfer));
    });
    if (this.clearButton) {
      this.clearButton.addEventListener("click", () => {
        this.items = [];
        this.summarize("");
        this.onChange();
      });
    }
  }

  async dropped(reading) {
    this.summarize("Reading the dropped files…");
    const found = (await reading).filter((item) => !isIgnored(item.path));
    if (this.archiveInput && found.length === 1 && /\.zip$/i.test(found[0].path) && window.DataTransfer) {
      const transfer = new DataTransfer();
      transfer.items.add(found[0].file);
      this.archiveInput.files = transfer.files;
      this.summarize(found[0].path + " is set as the archive to upload.");
      this.onChange();
      return;
    }
    this.add(found);
    this.onChange();
  }

  add(found) {
    const known = new Set(this.items.map((item) => item.path));
    this.items = this.items.concat(found.filter((item) => !known.has(item.path)));
    const total = this.items.reduce((sum, item) => sum + item.file.size, 0);
    const count = this.items.length;
    this.summarize(count ? count + " file" + (count !== 1 ? "s" : "") + " dropped (" + humanSize(total) + ")."
      : "Nothing usable was dropped.");
  }

  summarize(text) {
    if (this.summary) this.summary.textContent = text;
    if (this.clearButton) this.clearButton.hidden = !this.items.length;
  }
}

/** Dropping a file anywhere else would make the browser open it and leave the page. */
export function guardWindowDrops() {
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (!event.defaultPrevented) event.preventDefault();
    });
  }
}
