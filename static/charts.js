/*
 * Small line charts of sensor files, drawn on a <canvas>: one line per channel, at most ~500 points
 * each (min/max per bucket, so peaks survive). What is drawn comes from chart-data.js. No framework,
 * no inline style.
 *
 * On import every <figure class="chart" data-chart-src="…"> of the page is fetched (when it scrolls
 * into view) and drawn; its data-chart-state becomes "drawn", "empty", "too-large" or "error".
 * render(figure, text, hint) draws text the caller already has (the builder's previews).
 */
import { MAX_BYTES, MAX_POINTS, axisLabel, chartSummary, downsample, parse, valueRange } from "./chart-data.js";
import { chartHint } from "./file-types.js";

export { MAX_BYTES };

// Keep in step with .series-N in portal.css (the legend's colours).
var COLORS = ["#0b5cad", "#b42318", "#1a7f37", "#9a6700", "#6e40c9", "#0a7c86", "#c2410c", "#475467",
              "#be185d", "#4d7c0f", "#1d4ed8", "#7c2d12"];

function draw(canvas, data) {
  var ratio = window.devicePixelRatio || 1;
  var width = canvas.clientWidth || canvas.width;
  var height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  var context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);

  var lines = data.channels.map(function (channel) { return downsample(channel, MAX_POINTS); });
  var length = Math.max.apply(null, data.channels.map(function (channel) { return channel.length; }));
  var range = valueRange(lines);
  if (!range) return 0;
  var low = range.low;
  var high = range.high;
  var pad = { left: 44, right: 6, top: 6, bottom: 6 };
  var first = data.x ? data.x[0] : 0;
  var span = data.x ? data.x[data.x.length - 1] - first : length - 1;
  var x = function (index) {
    var at = data.x ? data.x[Math.min(index, data.x.length - 1)] - first : index;
    return pad.left + (width - pad.left - pad.right) * (span > 0 ? at / span : 0.5);
  };
  var y = function (value) { return pad.top + (height - pad.top - pad.bottom) * (1 - (value - low) / (high - low)); };

  context.strokeStyle = "#d8dee4";
  context.lineWidth = 1;
  context.beginPath();
  context.moveTo(pad.left, pad.top);
  context.lineTo(pad.left, height - pad.bottom);
  context.lineTo(width - pad.right, height - pad.bottom);
  context.stroke();
  context.fillStyle = "#5b6670";
  context.font = "10px system-ui, sans-serif";
  context.textAlign = "right";
  context.textBaseline = "top";
  context.fillText(axisLabel(high), pad.left - 4, pad.top);
  context.textBaseline = "bottom";
  context.fillText(axisLabel(low), pad.left - 4, height - pad.bottom);

  var drawn = 0;
  lines.forEach(function (points, index) {
    if (!points.length) return;
    context.strokeStyle = COLORS[index % COLORS.length];
    context.lineWidth = 1.25;
    context.beginPath();
    points.forEach(function (point, i) {
      if (i === 0) context.moveTo(x(point[0]), y(point[1]));
      else context.lineTo(x(point[0]), y(point[1]));
    });
    context.stroke();
    drawn = Math.max(drawn, points.length);
  });
  return drawn;
}

function setState(figure, state, message) {
  figure.setAttribute("data-chart-state", state);
  var caption = figure.querySelector("figcaption") || figure.appendChild(document.createElement("figcaption"));
  caption.className = "muted";
  caption.textContent = message;
}

/** Draw `text` (the file's contents) into the figure's canvas; returns true when something was drawn. */
export function render(figure, text, hint) {
  var data = parse(text, hint);
  var canvas = figure.querySelector("canvas");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.width = 360;
    canvas.height = 120;
    figure.insertBefore(canvas, figure.firstChild);
  }
  if (!data) {
    setState(figure, "empty", "no numbers to draw in this file");
    return false;
  }
  var points = draw(canvas, data);
  var caption = figure.querySelector("figcaption") || figure.appendChild(document.createElement("figcaption"));
  caption.className = "chart-legend";
  caption.textContent = "";
  data.channels.forEach(function (channel, index) {
    var key = document.createElement("span");
    key.className = "series series-" + (index % COLORS.length);
    key.textContent = data.labels[index] || "channel " + (index + 1);
    caption.appendChild(key);
    caption.appendChild(document.createTextNode(" "));
  });
  var about = document.createElement("span");
  about.className = "muted";
  about.textContent = chartSummary(data, points);
  caption.appendChild(about);
  figure.setAttribute("data-chart-state", "drawn");
  figure.setAttribute("data-chart-channels", String(data.channels.length));
  return true;
}

function load(figure) {
  if (figure.getAttribute("data-chart-state")) return;
  setState(figure, "loading", "loading…");
  fetch(figure.getAttribute("data-chart-src"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("the portal answered " + response.status);
      var length = Number(response.headers.get("Content-Length") || 0);
      if (length > MAX_BYTES) {
        setState(figure, "too-large", "too large to draw here (" + Math.round(length / 1e6) + " MB): download it");
        return null;
      }
      return response.text().then(function (text) {
        render(figure, text, chartHint(figure.getAttribute("data-chart-type") || response.headers.get("Content-Type")));
      });
    })
    .catch(function (error) {
      setState(figure, "error", "could not draw it: " + error.message);
    });
}

/** Draw every figure.chart[data-chart-src] of the page as it comes into view. */
function start() {
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart[data-chart-src]"));
  if (!figures.length) return;
  // The server's caption says a chart needs JavaScript; it is on, so say what happens instead.
  figures.forEach(function (figure) {
    var caption = figure.querySelector("figcaption");
    if (caption && !figure.hasAttribute("data-chart-state")) caption.textContent = "drawing the chart…";
  });
  if (!("IntersectionObserver" in window)) {
    figures.forEach(load);
    return;
  }
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        load(entry.target);
      }
    });
  }, { rootMargin: "200px" });
  figures.forEach(function (figure) { observer.observe(figure); });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
