/*
 * The datapack document on the browser side: recognise it among the chosen files (as the portal's
 * `find_document` does), read a document chosen on its own, list its links.
 * Pure: no DOM at import time; reading uses the File (Blob) API, which Node has too.
 */
import { normalizePath } from "./paths.js";
import { humanSize } from "./sizes.js";

/** A file's text (Blob.text(), or FileReader in browsers without it). */
export function readText(file) {
  if (file.text) return file.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}

/** The parsed document when `text` is a JSON object with "info" and "children", else null. */
export function parseDocument(text) {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value) && "info" in value && "children" in value) {
      return value;
    }
  } catch (ignored) { /* sensor streams are JSON too, or not JSON at all */ }
  return null;
}

/**
 * The paths (keys of `files`, a Map of path to File) of the .json files that are datapack documents,
 * read up to `maxJsonBytes`: the builder proposes them as no data node (as the portal's `document_paths` does).
 */
export async function documentPaths(files, maxJsonBytes) {
  const checks = [...files]
    .filter(([path, file]) => /\.json$/i.test(path) && file.size <= maxJsonBytes)
    .map(async ([path, file]) => {
      try {
        return parseDocument(await readText(file)) ? path : null;
      } catch (unreadable) {
        return null;
      }
    });
  return new Set((await Promise.all(checks)).filter(Boolean));
}

/** A path in quotes, as the server's messages write it ('a/b.json'). */
function quoted(path) {
  return "'" + path + "'";
}

/** The .json entries by folder depth ({depth: [entry, …]}), and the paths of those too large to read. */
function jsonByDepth(entries, maxJsonBytes) {
  const levels = new Map();
  const tooLarge = [];
  for (const entry of entries) {
    if (!/\.json$/i.test(entry.path)) continue;
    if (entry.file.size > maxJsonBytes) {
      tooLarge.push(normalizePath(entry.path));
      continue;
    }
    const depth = normalizePath(entry.path).split("/").length;
    if (!levels.has(depth)) levels.set(depth, []);
    levels.get(depth).push(entry);
  }
  return {levels, tooLarge};
}

/** {entry, document} when the entry's file is a datapack document, else null (unreadable too). */
async function asDocument(entry) {
  let text;
  try {
    text = await readText(entry.file);
  } catch (unreadable) {
    return null;
  }
  const value = parseDocument(text);
  return value ? {entry, document: value} : null;
}

function notFound(tooLarge, maxJsonBytes) {
  let problem = "no datapack document found: add the .json file that has 'info' and 'children'";
  if (tooLarge.length) {
    problem += " (.json files larger than " + humanSize(maxJsonBytes) + " are not read: " +
      tooLarge.slice(0, 3).map(quoted).join(", ") + (tooLarge.length > 3 ? ", …" : "") + ")";
  }
  return {problems: [problem]};
}

/**
 * The datapack document among `entries` ([{path, file}]): a .json object with "info" and
 * "children"; the shallowest wins and two at the same depth are ambiguous (the portal's
 * `find_document`, with the same messages). Files are read one folder level at a time, shallowest
 * first, so deep sensor JSON is rarely read. Resolves {entry, document}; rejects {problems: [...]}.
 */
export async function findDocument(entries, maxJsonBytes) {
  const {levels, tooLarge} = jsonByDepth(entries, maxJsonBytes);
  const depths = [...levels.keys()].sort((a, b) => a - b);
  for (const depth of depths) {
    const found = [];
    for (const entry of levels.get(depth)) {  // one after another: a file is read only when needed
      const item = await asDocument(entry);
      if (item) found.push(item);
    }
    if (found.length > 1) {
      throw {problems: ["several datapack documents were found (" +
        found.map((item) => quoted(normalizePath(item.entry.path))).join(", ") + "): send one"]};
    }
    if (found.length) return found[0];
  }
  throw notFound(tooLarge, maxJsonBytes);
}

/** The document chosen on its own: parsed, or rejected {problems: [...]} (too large, not JSON). */
export async function readChosenDocument(file, maxJsonBytes, maxJsonKb) {
  if (file.size > maxJsonBytes) {
    throw {problems: ["document: is larger than " + maxJsonKb + " KB"]};
  }
  const text = await readText(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw {problems: ["document: is not valid JSON (" + error.message + ")"]};
  }
}

/** The links of the document's data nodes, depth first, in document order. */
export function dataLinks(nodes, into = []) {
  for (const node of nodes || []) {
    if (node && node["class"] === "data") into.push(node.link);
    else if (node && node["class"] === "container") dataLinks(node.children, into);
  }
  return into;
}

/**
 * Upload under another name (as the upload page's rename does): a non-empty `name`, its runs of
 * white space made one space, stands for the document's info.name. Changes `document` in place;
 * returns whether it did.
 */
export function applyName(document, name) {
  const clean = typeof name === "string" ? name.trim().split(/\s+/).join(" ") : "";
  const info = document && typeof document === "object" ? document.info : null;
  if (!clean || !info || typeof info !== "object" || Array.isArray(info)) return false;
  info.name = clean;
  return true;
}
