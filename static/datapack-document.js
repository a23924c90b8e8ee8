/*
 * The datapack document on the browser side: recognise it among the chosen files (as
 * portal/rules/assets.py find_document does), read a document chosen on its own, list its links.
 * Pure: no DOM at import time; reading uses the File (Blob) API, which Node has too.
 */
import { normalizePath } from "./paths.js";
import { humanSize } from "./sizes.js";

/** A file's text (Blob.text(), or FileReader in browsers without it). */
export function readText(file) {
  if (file.text) return file.text();
  return new Promise(function (resolve, reject) {
    var reader = new FileReader();
    reader.onload = function () { resolve(reader.result); };
    reader.onerror = function () { reject(reader.error); };
    reader.readAsText(file);
  });
}

/** The parsed document when `text` is a JSON object with "info" and "children", else null. */
export function parseDocument(text) {
  try {
    var value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value) && "info" in value && "children" in value) {
      return value;
    }
  } catch (ignored) { /* sensor streams are JSON too, or not JSON at all */ }
  return null;
}

/**
 * The paths (keys of `files`, a Map of path to File) of the .json files that are datapack documents,
 * read up to `maxJsonBytes`: the builder proposes them as no data node (as document_paths does).
 */
export function documentPaths(files, maxJsonBytes) {
  var checks = [];
  files.forEach(function (file, path) {
    if (!/\.json$/i.test(path) || file.size > maxJsonBytes) return;
    checks.push(readText(file).then(function (text) { return parseDocument(text) ? path : null; },
                                    function () { return null; }));
  });
  return Promise.all(checks).then(function (paths) { return new Set(paths.filter(Boolean)); });
}

/**
 * The datapack document among `entries` ([{path, file}]): a .json object with "info" and
 * "children"; the shallowest wins and two at the same depth are ambiguous (portal/rules/assets.py
 * find_document, with the same messages). Files are read one folder level at a time, shallowest
 * first, so deep sensor JSON is rarely read. Resolves {entry, document}; rejects {problems: [...]}.
 */
export function findDocument(entries, maxJsonBytes) {
  var depthOf = function (entry) { return normalizePath(entry.path).split("/").length; };
  var levels = {};
  var tooLarge = [];
  entries.forEach(function (entry) {
    if (!/\.json$/i.test(entry.path)) return;
    if (entry.file.size > maxJsonBytes) {
      tooLarge.push(normalizePath(entry.path));
      return;
    }
    (levels[depthOf(entry)] = levels[depthOf(entry)] || []).push(entry);
  });
  var depths = Object.keys(levels).map(Number).sort(function (a, b) { return a - b; });

  var asDocument = function (entry) {
    return readText(entry.file).then(function (text) {
      var value = parseDocument(text);
      return value ? {entry: entry, document: value} : null;
    }, function () { return null; });
  };
  var readLevel = function (index) {
    if (index >= depths.length) {
      var problem = "no datapack document found: add the .json file that has 'info' and 'children'";
      if (tooLarge.length) {
        problem += " (.json files larger than " + humanSize(maxJsonBytes) + " are not read: " +
          tooLarge.slice(0, 3).map(quoted).join(", ") + (tooLarge.length > 3 ? ", …" : "") + ")";
      }
      return Promise.reject({problems: [problem]});
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
          return quoted(normalizePath(item.entry.path));
        }).join(", ") + "): send one"]};
      }
      return found[0];
    });
  };
  return readLevel(0);
}

/** A path in quotes, as the server's messages write it ('a/b.json'). */
function quoted(path) {
  return "'" + path + "'";
}

/** The document chosen on its own: parsed, or rejected {problems: [...]} (too large, not JSON). */
export function readChosenDocument(file, maxJsonBytes, maxJsonKb) {
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

/** The links of the document's data nodes, depth first, in document order. */
export function dataLinks(nodes, into) {
  into = into || [];
  (nodes || []).forEach(function (node) {
    if (node && node["class"] === "data") into.push(node.link);
    else if (node && node["class"] === "container") dataLinks(node.children, into);
  });
  return into;
}

/**
 * Upload under another name (as portal/views/upload.py rename): a non-empty `name`, its runs of
 * white space made one space, stands for the document's info.name. Changes `document` in place;
 * returns whether it did.
 */
export function applyName(document, name) {
  var clean = typeof name === "string" ? name.trim().split(/\s+/).join(" ") : "";
  var info = document && typeof document === "object" ? document.info : null;
  if (!clean || !info || typeof info !== "object" || Array.isArray(info)) return false;
  info.name = clean;
  return true;
}
