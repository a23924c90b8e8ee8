/*
 * The page helpers the scripts share: building elements, the CSRF token, the files of an input,
 * JSON posts to the portal. Only used once a page runs (nothing happens at import).
 */

/** A new element: attrs (text, className, other attributes; null/false left out) and children (nodes or text). */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children || []) {
    if (child === null || child === undefined) continue;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** The page's CSRF token (meta csrf-token), sent with every POST and PUT. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

/** The files of a file input, as an array (empty without one). */
export function filesOf(input) {
  return input && input.files ? Array.from(input.files) : [];
}

/** POST JSON to the portal; resolves {status, body} (body null when the answer is not JSON). */
export async function postJSON(url, payload) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
    body: JSON.stringify(payload)
  });
  const body = await response.json().catch(() => null);
  return {status: response.status, body};
}
