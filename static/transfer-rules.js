/*
 * The rules of a transfer that need no page: which failures are retried and after how long, the
 * settings a form gives in its data-* attributes, and matching the API's uploads to the chosen
 * File objects. Pure: no DOM, importable by Node.
 */

export const RETRIES = 3;                  // automatic retries after the first failed attempt of a file
export const RETRY_BASE_MS = 1000;         // 1 s, 2 s, 4 s (with some jitter); form data-retry-delay overrides
const RETRYABLE = [0, 408, 429, 500, 502, 503, 504];

/** Whether a failed PUT (its HTTP status; 0 when the connection failed) is worth sending again. */
export function isRetryable(status) {
  return RETRYABLE.includes(status);
}

/** Milliseconds before try `attempt` + 1: base, 2 × base, 4 × base…, each ±20 % (random in [0, 1)). */
export function retryDelay(base, attempt, random) {
  const jitter = random === undefined ? Math.random() : random;
  return base * 2 ** (attempt - 1) * (0.8 + 0.4 * jitter);
}

/**
 * The transfer's settings from an element's data-parallel, data-retry-delay, data-login-url,
 * data-datapack-url and data-pending-url (DATAPACK_ID in them is replaced), with defaults for what
 * is missing.
 */
export function transferSettings(element) {
  const parallel = parseInt(element.getAttribute("data-parallel"), 10);
  const delay = parseInt(element.getAttribute("data-retry-delay"), 10);
  const datapackPattern = element.getAttribute("data-datapack-url") || "/datapacks/DATAPACK_ID";
  const pendingPattern = element.getAttribute("data-pending-url") || "/api/datapacks/DATAPACK_ID/pending";
  return {
    parallel: parallel > 0 ? parallel : 4,
    retryDelay: delay >= 0 ? delay : RETRY_BASE_MS,
    loginUrl: element.getAttribute("data-login-url") || "/auth/login",
    datapackUrl: (id) => datapackPattern.replace("DATAPACK_ID", encodeURIComponent(id)),
    pendingUrl: (id) => pendingPattern.replace("DATAPACK_ID", encodeURIComponent(id)),
  };
}

/**
 * After a PUT answered 404 (no data node has that link any more): does the portal's pending answer
 * ({status, body}) still list `link` as waiting for its file? true or false, or null when the answer
 * does not tell (an error, or an older portal without pending_links). A 404 with the link no longer
 * pending means an earlier try arrived and only its answer was lost: the file is uploaded.
 */
export function stillPending(answer, link) {
  const links = answer && answer.body && answer.body.pending_links;
  if (!answer || (answer.status !== 200 && answer.status !== 422) || !Array.isArray(links)) return null;
  return links.includes(link);
}

/**
 * The line about the chosen files no data node refers to (the create answer's left_out: their
 * paths), which are not uploaded; null when there are none. At most `shown` names are listed.
 */
export function leftOutNote(paths, shown) {
  const list = Array.isArray(paths) ? paths.filter((path) => typeof path === "string") : [];
  if (!list.length) return null;
  const limit = shown > 0 ? shown : 5;
  const names = list.slice(0, limit).join(", ");
  const more = list.length > limit ? " and " + (list.length - limit) + " more" : "";
  return "Not uploaded: " + list.length + " file" + (list.length !== 1 ? "s" : "") +
    " no data node refers to — " + names + more + ".";
}

/** Match the API's answer ([{link, path, size, url}]) back to the File objects by the path the browser gave. */
export function attachFiles(uploads, byPath) {
  return uploads.map((upload) => ({link: upload.link, path: upload.path, size: upload.size, url: upload.url,
    file: byPath[upload.path]})).filter((upload) => upload.file);
}

/** {path: File} from [{path, file}] entries or a Map (path → File); a plain {path: File} is returned as is. */
export function filesByPath(entries) {
  if (Array.isArray(entries)) return Object.fromEntries(entries.map((entry) => [entry.path, entry.file]));
  if (typeof entries.forEach === "function") return Object.fromEntries(entries);
  return entries;
}
