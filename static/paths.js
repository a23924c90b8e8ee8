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

/** The path the browser gives a chosen file: relative to the chosen folder, or its name. */
export function chosenPath(file) {
  return file.webkitRelativePath || file.name;
}
