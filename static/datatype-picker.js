/*
 * The datatype suggested beside a picker (span.datatype-suggestion, written by the portal from the
 * node's names and media type), made useful: a "Use suggestion" button that chooses it in the picker
 * (kept only when the user saves), refined with the number of channels read from the file's first
 * bytes. Never chosen without the user. Used by the builder (files on this computer) and the
 * datapack page's node editor (stored files, read when the editor is opened).
 */
import { HEAD_BYTES, countChannels, suggestDatatype } from "./datatype-suggestion.js";

/** The start of a File as text, and whether it is the whole file. */
export async function headOfFile(file) {
  return { text: await file.slice(0, HEAD_BYTES).text(), complete: file.size <= HEAD_BYTES };
}

/** The start of a stored file as text (a range asked for, the rest never read), and whether it is all of it. */
export async function headOfUrl(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Range: "bytes=0-" + (HEAD_BYTES - 1) } });
  if (!response.ok || !response.body) return null;
  const reader = response.body.getReader();
  const parts = [];
  let size = 0;
  let ended = false;
  while (size < HEAD_BYTES) {
    const { done, value } = await reader.read();
    if (done) { ended = true; break; }
    parts.push(value);
    size += value.length;
  }
  if (!ended) reader.cancel().catch(() => {});
  const bytes = new Uint8Array(size);
  let at = 0;
  parts.forEach((part) => { bytes.set(part, at); at += part.length; });
  const total = /\/(\d+)$/.exec(response.headers.get("Content-Range") || "");
  const complete = response.status === 206 ? Boolean(total) && Number(total[1]) <= HEAD_BYTES : ended;
  return { text: new TextDecoder().decode(bytes.subarray(0, HEAD_BYTES)), complete: complete };
}

function optionName(picker, datatypeId) {
  const option = Array.prototype.find.call(picker.options, (item) => item.value === datatypeId);
  return option ? option.textContent.trim() : "";
}

function show(slot, picker, suggestion) {
  slot.textContent = "";
  const name = suggestion ? optionName(picker, suggestion.datatypeId) : "";
  if (!name || picker.value === suggestion.datatypeId) return;
  const strong = document.createElement("strong");
  strong.textContent = name;
  const use = document.createElement("button");
  use.type = "button";
  use.className = "link use-suggestion";
  use.textContent = "Use suggestion";
  use.addEventListener("click", () => {
    picker.value = suggestion.datatypeId;
    picker.dispatchEvent(new Event("change", { bubbles: true }));
    slot.textContent = "“" + name + "” chosen: " + slot.getAttribute("data-keep-with") + " to keep it.";
    picker.focus();
  });
  slot.append("Suggested: ", strong, " (" + suggestion.reason + "). ", use);
}

async function offer(slot, headOf) {
  const picker = document.getElementById(slot.getAttribute("data-for"));
  if (!picker) return;
  let names = [];
  try { names = JSON.parse(slot.getAttribute("data-names") || "[]"); } catch (error) { names = []; }
  const mime = slot.getAttribute("data-mime") || "";
  const given = slot.getAttribute("data-suggested");
  show(slot, picker, given ? { datatypeId: given, reason: slot.getAttribute("data-reason") || "" } : null);
  if (/^(video|audio|image)\//i.test(mime)) return;  // media: its type said it all
  const head = await Promise.resolve(headOf(slot)).catch(() => null);
  const channels = head ? countChannels(head.text, head.complete) : null;
  if (channels === null) return;  // the file's content adds nothing: the names' suggestion stands
  slot.setAttribute("data-channels", String(channels));
  show(slot, picker, suggestDatatype(names, mime, channels));
}

/**
 * Offer every suggestion inside `root`; `headOf(slot)` gives the start of the slot's file
 * ({text, complete}, or a promise of it) or null. A suggestion inside a closed <details> waits for it to open.
 */
export function offerSuggestions(root, headOf) {
  root.querySelectorAll(".datatype-suggestion[data-for]").forEach((slot) => {
    const closed = slot.closest("details:not([open])");
    if (closed) {
      const picker = document.getElementById(slot.getAttribute("data-for"));
      const given = slot.getAttribute("data-suggested");
      if (picker && given) show(slot, picker, { datatypeId: given, reason: slot.getAttribute("data-reason") || "" });
      closed.addEventListener("toggle", () => offer(slot, headOf), { once: true });
    } else {
      offer(slot, headOf);
    }
    slot.dataset.enhanced = "true";  // offered now, or as soon as its editor opens
  });
}
