/*
 * Paths of chosen files as the portal reads them. Pure: no DOM, importable by Node.
 * Each function mirrors a rule of the portal's; keep them in step with the Python function named beside it.
 */

const IGNORED_NAMES = [".DS_Store", "Thumbs.db", "desktop.ini"];

/**
 * A file's relative path with forward slashes and no "./" (the portal's `normalize_path`:
 * posixpath.normpath, then the leading slashes dropped): "pack\\a.json" → "pack/a.json",
 * "/pack//./a.json" → "pack/a.json", "a/../b" → "b", "" → "".
 * With `composed`, also in composed unicode (NFC), as the portal compares paths (macOS hands
 * out decomposed names).
 */
export function normalizePath(path, composed) {
  const text = String(path || "").replace(/\\/g, "/");
  if (!text) return "";
  const absolute = text.charAt(0) === "/";
  const parts = [];
  for (const part of text.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== ".." || (!absolute && !parts.length) || (parts.length && parts[parts.length - 1] === "..")) {
      parts.push(part);
    } else if (parts.length) {
      parts.pop();
    }
  }
  const joined = parts.join("/") || (absolute ? "" : ".");
  return composed && joined.normalize ? joined.normalize("NFC") : joined;
}

/** The last part of a path: "pack/sensors/emg.json" → "emg.json". */
export function baseName(path) {
  const parts = normalizePath(path).split("/");
  return parts[parts.length - 1];
}

/**
 * Files a desktop adds on its own, never meant as assets (the portal's `is_ignored`, which it
 * applies to normalised paths): __MACOSX/…, .DS_Store, Thumbs.db, desktop.ini, ._name.
 */
export function isIgnored(path) {
  const normal = normalizePath(path);
  const name = baseName(normal);
  return normal.startsWith("__MACOSX/") || IGNORED_NAMES.includes(name) || name.startsWith("._");
}

/**
 * Why a path cannot name a file safely, or null when it can (portal/rules/datapack_rules.py
 * unsafe_link_reason, with the same words): empty, control characters, absolute, "..", too long.
 */
export function unsafePathReason(path) {
  if (typeof path !== "string") return "is not a string";
  if (!path.trim()) return "is empty";
  if (path.indexOf("\u0000") >= 0) return "contains a NUL character";
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(path);
  if (control) {
    return "contains a control character (U+" + control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0") + ")";
  }
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?:[^\ud800-\udbff]|^)[\udc00-\udfff]/.test(path)) {
    return "contains a lone surrogate (half of a character)";
  }
  if (/^[\/\\]/.test(path) || /^[A-Za-z]:/.test(path)) return "is an absolute path";
  if (path.replace(/\\/g, "/").split("/").indexOf("..") >= 0) return "goes up a folder with '..'";
  if (path.length > 1024) return "is longer than 1024 characters";
  return null;
}

/** The path the browser gives a chosen file: relative to the chosen folder, or its name. */
export function chosenPath(file) {
  return file.webkitRelativePath || file.name;
}
