/*
 * Previews of files that are still on the user's computer (the builder, before upload): audio, video
 * and images from URL.createObjectURL, sensor files drawn by charts.js (a file whose type says nothing
 * is drawn if its content turns out to be numbers). Nothing leaves the browser.
 *
 *   const done = showPreview(container, file, kind);   // kind: audio|video|image|chart|"" (guessed)
 *   done();                                            // revokes the object URL
 */
import { MAX_BYTES, render } from "./charts.js";
import { PROBE_BYTES, mayHoldNumbers } from "./chart-data.js";
import { localChartHint, mayHoldNumbersType, previewKind } from "./file-types.js";

const NOTHING_TO_UNDO = () => {};

/** An <audio>, <video> or <img> of the file; the returned function revokes its object URL. */
function showMedia(container, file, kind) {
  const url = URL.createObjectURL(file);
  const element = document.createElement(kind === "image" ? "img" : kind);
  if (kind === "image") {
    element.alt = "Preview of " + file.name;
  } else {
    element.controls = true;
    element.preload = "metadata";
  }
  element.src = url;
  container.appendChild(element);
  return () => URL.revokeObjectURL(url);
}

/** A file whose type says nothing: charted if its first bytes, then its whole text, are numbers. */
async function chartIfNumbers(container, file) {
  const maybe = document.createElement("figure");
  maybe.className = "chart maybe";
  maybe.setAttribute("data-chart-maybe", "");
  container.appendChild(maybe);
  const head = await file.slice(0, PROBE_BYTES).arrayBuffer();
  if (!mayHoldNumbers(new Uint8Array(head))) {
    maybe.setAttribute("data-chart-state", "not-numbers");
    return;
  }
  const text = await file.text();
  if (render(maybe, text, localChartHint(file))) container.setAttribute("data-preview", "chart");
}

/** A sensor file's chart (or a note that it is too large to draw here). */
async function showChart(container, file) {
  const figure = document.createElement("figure");
  figure.className = "chart";
  container.appendChild(figure);
  if (file.size > MAX_BYTES) {
    figure.setAttribute("data-chart-state", "too-large");
    figure.appendChild(document.createElement("figcaption")).textContent = "too large to draw here";
    return;
  }
  const canvas = document.createElement("canvas");
  canvas.width = 360;
  canvas.height = 120;
  figure.appendChild(canvas);
  render(figure, await file.text(), localChartHint(file));
}

export function showPreview(container, file, given) {
  const kind = previewKind(file, given);
  container.textContent = "";
  container.setAttribute("data-preview", kind || "none");
  if (kind === "audio" || kind === "video" || kind === "image") return showMedia(container, file, kind);
  if (!kind && mayHoldNumbersType(file.type) && file.size <= MAX_BYTES) chartIfNumbers(container, file);
  else if (kind === "chart") showChart(container, file);
  return NOTHING_TO_UNDO;
}
