/*
 * The rules of a transfer that need no page: which failures are retried and after how long, the
 * settings a form gives in its data-* attributes, and matching the API's uploads to the chosen
 * File objects. Pure: no DOM, importable by Node.
 */

export var RETRIES = 3;                  // automatic retries after the first failed attempt of a file
export var RETRY_BASE_MS = 1000;         // 1 s, 2 s, 4 s (with some jitter); form data-retry-delay overrides
var RETRYABLE = [0, 408, 429, 500, 502, 503, 504];

/** Whether a failed PUT (its HTTP status; 0 when the connection failed) is worth sending again. */
export function isRetryable(status) {
  return RETRYABLE.indexOf(status) >= 0;
}

/** Milliseconds before try `attempt` + 1: base, 2 × base, 4 × base…, each ±20 % (random in [0, 1)). */
export function retryDelay(base, attempt, random) {
  var jitter = random === undefined ? Math.random() : random;
  return base * Math.pow(2, attempt - 1) * (0.8 + 0.4 * jitter);
}

/**
 * The transfer's settings from an element's data-parallel, data-retry-delay, data-login-url and
 * data-datapack-url (DATAPACK_ID in it is replaced), with defaults for what is missing.
 */
export function transferSettings(element) {
  var parallel = parseInt(element.getAttribute("data-parallel"), 10);
  var delay = parseInt(element.getAttribute("data-retry-delay"), 10);
  var datapackPattern = element.getAttribute("data-datapack-url") || "/datapacks/DATAPACK_ID";
  return {
    parallel: parallel > 0 ? parallel : 4,
    retryDelay: delay >= 0 ? delay : RETRY_BASE_MS,
    loginUrl: element.getAttribute("data-login-url") || "/auth/login",
    datapackUrl: function (id) { return datapackPattern.replace("DATAPACK_ID", encodeURIComponent(id)); }
  };
}

/** Match the API's answer ([{link, path, size, url}]) back to the File objects by the path the browser gave. */
export function attachFiles(uploads, byPath) {
  return uploads.map(function (upload) {
    return {link: upload.link, path: upload.path, size: upload.size, url: upload.url, file: byPath[upload.path]};
  }).filter(function (upload) { return upload.file; });
}

/** {path: File} from [{path, file}] entries or a Map (path → File); a plain {path: File} is returned as is. */
export function filesByPath(entries) {
  var byPath = {};
  if (typeof entries.forEach === "function" && !Array.isArray(entries)) {
    entries.forEach(function (file, path) { byPath[path] = file; });
  } else if (Array.isArray(entries)) {
    entries.forEach(function (entry) { byPath[entry.path] = entry.file; });
  } else {
    byPath = entries;
  }
  return byPath;
}
