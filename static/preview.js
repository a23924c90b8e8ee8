/*
 * Previews of files that are still on the user's computer (the builder, before upload): audio, video
 * and images from URL.createObjectURL, sensor files drawn by charts.js (a file whose type says nothing
 * is drawn if its content turns out to be numbers). Nothing leaves the browser.
 *
 *   var done = showPreview(container, file, kind);   // kind: audio|video|image|chart|"" (guessed)
 *   done();                                          // revokes the object URL
 */
import { MAX_BYTES, render } from "./charts.js";
import { PROBE_BYTES, mayHoldNumbers } from "./chart-data.js";
import { localChartHint, mayHoldNumbersType, previewKind } from "./file-types.js";

export function showPreview(container, file, kind) {
  kind = previewKind(file, kind);
  container.textContent = "";
  container.setAttribute("data-preview", kind || "none");
  if (kind === "audio" || kind === "video" || kind === "image") {
    var url = URL.createObjectURL(file);
    var element = document.createElement(kind === "image" ? "img" : kind);
    if (kind === "image") {
      element.alt = "Preview of " + file.name;
    } else {
      element.controls = true;
      element.preload = "metadata";
    }
    element.src = url;
    container.appendChild(element);
    return function () { URL.revokeObjectURL(url); };
  }
  if (!kind && mayHoldNumbersType(file.type) && file.size <= MAX_BYTES) {
    // Its type says nothing: chart it if its first bytes, then its whole text, are numbers.
    var maybe = document.createElement("figure");
    maybe.className = "chart maybe";
    maybe.setAttribute("data-chart-maybe", "");
    container.appendChild(maybe);
    file.slice(0, PROBE_BYTES).arrayBuffer().then(function (head) {
      if (!mayHoldNumbers(new Uint8Array(head))) {
        maybe.setAttribute("data-chart-state", "not-numbers");
        return null;
      }
      return file.text().then(function (text) {
        if (render(maybe, text, localChartHint(file))) container.setAttribute("data-preview", "chart");
      });
    });
    return function () {};
  }
  if (kind === "chart") {
    var figure = document.createElement("figure");
    figure.className = "chart";
    container.appendChild(figure);
    if (file.size > MAX_BYTES) {
      figure.setAttribute("data-chart-state", "too-large");
      figure.appendChild(document.createElement("figcaption")).textContent = "too large to draw here";
      return function () {};
    }
    var canvas = document.createElement("canvas");
    canvas.width = 360;
    canvas.height = 120;
    figure.appendChild(canvas);
    file.text().then(function (text) {
      render(figure, text, localChartHint(file));
    });
  }
  return function () {};
}
