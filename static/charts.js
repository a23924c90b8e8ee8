/*
 * Small line charts of sensor files, drawn on a <canvas>: one line per channel, the min and the max of
 * each pixel column (so peaks survive, and a million samples draw as fast as a thousand). What is drawn
 * comes from chart-data.js. No framework, no inline style.
 *
 * On import every <figure class="chart" data-chart-src="…"> of the page is fetched (when it scrolls
 * into view) and drawn; its data-chart-state becomes "drawn", "empty", "too-large" or "error". A figure
 * with data-chart-settings (a datatype's {name, rate, channels, units, range}) is drawn with a time axis
 * in seconds, the datatype's channel labels and its units. A figure marked data-chart-maybe is a file
 * whose type says nothing about its content: its first bytes are fetched first, and it is drawn only if
 * the file turns out to hold numbers (else it stays hidden, data-chart-state "not-numbers").
 * render(figure, text, hint) draws text the caller already has (the builder's previews).
 */
import { MAX_BYTES, MAX_POINTS, PROBE_BYTES, axisLabel, chartSettings, chartSummary, downsample, extremeLength,
         mayHoldNumbers, parse, secondsLabel, timeTicks, valueRange, withSettings } from "./chart-data.js";
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

  var timed = Boolean(data.rate);
  var pad = { left: 44, right: 8, top: 6, bottom: timed ? 18 : 6 };
  var plotWidth = Math.max(10, width - pad.left - pad.right);
  // Two points (min and max) per pixel column of the plot, never more than MAX_POINTS per line elsewhere.
  var budget = Math.max(MAX_POINTS, 2 * Math.ceil(plotWidth));
  var lines = data.channels.map(function (channel) { return downsample(channel, budget); });
  var length = extremeLength(data.channels);
  var range = valueRange(lines);
  if (!range) return 0;
  var low = range.low;
  var high = range.high;
  if (data.range && data.range[0] <= low && data.range[1] >= high) {  // the datatype's own range, when it holds the data
    low = data.range[0];
    high = data.range[1];
  }
  var first = data.x ? data.x[0] : 0;
  var span = data.x ? data.x[data.x.length - 1] - first : length - 1;
  var x = function (index) {
    var at = data.x ? data.x[Math.min(index, data.x.length - 1)] - first : index;
    return pad.left + plotWidth * (span > 0 ? at / span : 0.5);
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
  context.fillText(axisLabel(high) + (data.units ? " " + data.units : ""), pad.left - 4, pad.top);
  context.textBaseline = "bottom";
  context.fillText(axisLabel(low), pad.left - 4, height - pad.bottom);
  if (timed && length > 1) {  // the time axis: sample index / rate, in seconds
    var seconds = (length - 1) / data.rate;
    context.textBaseline = "top";
    timeTicks(seconds, Math.max(2, Math.floor(plotWidth / 70))).forEach(function (tick, index, ticks) {
      var at = pad.left + plotWidth * (tick / seconds);
      context.textAlign = index === 0 ? "left" : (index === ticks.length - 1 && at > width - 30 ? "right" : "center");
      context.fillText(secondsLabel(tick), at, height - pad.bottom + 3);
      context.beginPath();
      context.moveTo(at, height - pad.bottom);
      context.lineTo(at, height - pad.bottom + 2);
      context.stroke();
    });
  }

  var drawn = 0;
  lines.forEach(function (points, index) {
    if (!points.length) return;
    context.strokeStyle = COLORS[index % COLORS.length];
    context.lineWidth = 1.25;
    context.beginPath();
    for (var i = 0; i < points.length; i++) {
      if (i === 0) context.moveTo(x(points[i][0]), y(points[i][1]));
      else context.lineTo(x(points[i][0]), y(points[i][1]));
    }
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

function span(className, text) {
  var element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

/** Draw `text` (the file's contents) into the figure's canvas; returns true when something was drawn. */
export function render(figure, text, hint) {
  var data = withSettings(parse(text, hint), chartSettings(figure.getAttribute("data-chart-settings")));
  if (!data) {
    if (figure.hasAttribute("data-chart-maybe")) {
      setState(figure, "not-numbers", "");
      return false;
    }
    setState(figure, "empty", "no numbers to draw in this file");
    return false;
  }
  var canvas = figure.querySelector("canvas");
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvas.width = 360;
    canvas.height = 120;
    figure.insertBefore(canvas, figure.firstChild);
  }
  figure.setAttribute("data-chart-state", "drawing");  // shown now, so the canvas has its size
  var points = draw(canvas, data);
  var caption = figure.querySelector("figcaption") || figure.appendChild(document.createElement("figcaption"));
  caption.className = "chart-legend";
  caption.textContent = "";
  if (data.name) caption.appendChild(span("chart-title", data.name));
  data.channels.forEach(function (channel, index) {
    caption.appendChild(span("series series-" + (index % COLORS.length), data.labels[index] || "channel " + (index + 1)));
    caption.appendChild(document.createTextNode(" "));
  });
  if (data.units) caption.appendChild(span("chart-units", "in " + data.units));
  if (data.rate) {
    var samples = extremeLength(data.channels);
    caption.appendChild(span("chart-time", "time in seconds: 0 – " + secondsLabel(Math.max(0, samples - 1) / data.rate)));
  }
  caption.appendChild(span("muted", chartSummary(data, points)));
  figure.setAttribute("data-chart-state", "drawn");
  figure.setAttribute("data-chart-channels", String(data.channels.length));
  return true;
}

function tooLarge(figure, length) {
  if (figure.hasAttribute("data-chart-maybe")) setState(figure, "not-numbers", "");
  else setState(figure, "too-large", "too large to draw here (" + Math.round(length / 1e6) + " MB): download it");
}

function fetchWhole(figure, url) {
  return fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error("the portal answered " + response.status);
    var length = Number(response.headers.get("Content-Length") || 0);
    if (length > MAX_BYTES) {
      if (response.body) response.body.cancel();
      tooLarge(figure, length);
      return null;
    }
    return response.text().then(function (text) {
      render(figure, text, chartHint(figure.getAttribute("data-chart-type") || response.headers.get("Content-Type")));
    });
  });
}

/** A file whose type says nothing: look at its first bytes, and fetch it whole only if they may be numbers. */
function probe(figure, url) {
  return fetch(url, { credentials: "same-origin", headers: { Range: "bytes=0-" + (PROBE_BYTES - 1) } })
    .then(function (response) {
      if (!response.ok) throw new Error("the portal answered " + response.status);
      var whole = response.status === 200;  // no ranges upstream: this is the whole file
      var length = Number(response.headers.get("Content-Length") || 0);
      if (whole && length > MAX_BYTES) {
        if (response.body) response.body.cancel();
        tooLarge(figure, length);
        return null;
      }
      return response.arrayBuffer().then(function (buffer) {
        var bytes = new Uint8Array(buffer);
        if (!mayHoldNumbers(bytes.subarray(0, PROBE_BYTES))) {
          setState(figure, "not-numbers", "");
          return null;
        }
        if (whole) return render(figure, new TextDecoder("utf-8").decode(bytes), chartHint(response.headers.get("Content-Type")));
        var total = Number(((response.headers.get("Content-Range") || "").split("/")[1]) || 0);
        if (total > MAX_BYTES) {
          tooLarge(figure, total);
          return null;
        }
        return fetchWhole(figure, url);
      });
    });
}

function load(figure) {
  if (figure.getAttribute("data-chart-state")) return;
  var maybe = figure.hasAttribute("data-chart-maybe");
  setState(figure, "loading", maybe ? "" : "loading…");
  var url = figure.getAttribute("data-chart-src");
  (maybe ? probe(figure, url) : fetchWhole(figure, url))
    .catch(function (error) {
      if (maybe) setState(figure, "not-numbers", "");
      else setState(figure, "error", "could not draw it: " + error.message);
    });
}

/** Draw every figure.chart[data-chart-src] of the page as it comes into view. */
function start() {
  var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart[data-chart-src]"));
  if (!figures.length) return;
  // The server's caption says a chart needs JavaScript; it is on, so say what happens instead.
  figures.forEach(function (figure) {
    var caption = figure.querySelector("figcaption");
    if (caption && !figure.hasAttribute("data-chart-state") && !figure.hasAttribute("data-chart-maybe")) {
      caption.textContent = "drawing the chart…";
    }
  });
  if (!("IntersectionObserver" in window)) {
    figures.forEach(load);
    return;
  }
  // A figure not drawn yet may be hidden (a "maybe" chart): watch the box it sits in instead.
  var watched = new Map();
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        load(watched.get(entry.target));
      }
    });
  }, { rootMargin: "200px" });
  figures.forEach(function (figure) {
    var target = figure.hasAttribute("data-chart-maybe") ? (figure.parentElement || figure) : figure;
    if (watched.has(target)) {  // one watch per element: load the figure now instead
      load(figure);
      return;
    }
    watched.set(target, figure);
    observer.observe(target);
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
