/*
 * Small line charts of sensor files: JSON arrays of numbers (one channel), arrays of arrays (rows of
 * channels, or one array per channel), arrays of objects / objects of arrays (one channel per numeric
 * key) and CSV/TSV (one channel per numeric column). One line per channel, at most ~500 points each
 * (min/max per bucket, so peaks survive), drawn on a <canvas>. No framework, no inline style.
 *
 * On page load every <figure class="chart" data-chart-src="…"> is fetched (when it scrolls into view)
 * and drawn; its data-chart-state becomes "drawn", "empty", "too-large" or "error".
 * window.PortalCharts.render(figure, text, hint) draws text the caller already has (builder previews).
 */
(function () {
  "use strict";

  var MAX_POINTS = 500;
  var MAX_CHANNELS = 12;
  var MAX_BYTES = 5 * 1024 * 1024;
  // Keep in step with .series-N in portal.css (the legend's colours).
  var COLORS = ["#0b5cad", "#b42318", "#1a7f37", "#9a6700", "#6e40c9", "#0a7c86", "#c2410c", "#475467",
                "#be185d", "#4d7c0f", "#1d4ed8", "#7c2d12"];

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function numericArray(value) {
    return Array.isArray(value) && value.length > 0 && value.every(isNumber);
  }

  function series(channels, labels) {
    labels = labels || [];
    var keep = channels.map(function (channel, index) { return channel.length > 0 ? index : -1; })
      .filter(function (index) { return index >= 0; });
    channels = keep.map(function (index) { return channels[index]; });
    labels = keep.map(function (index) { return labels[index] || ""; });
    if (!channels.length) return null;
    var x = null;
    var xLabel = "";
    if (channels.length >= 3 && increasing(channels[0])) {  // a time (or index) column: the x axis
      x = channels.shift();
      xLabel = labels.shift() || "column 1";
    }
    return { channels: channels.slice(0, MAX_CHANNELS), labels: labels.slice(0, MAX_CHANNELS),
             total: channels.length, x: x, xLabel: xLabel };
  }

  function increasing(values) {
    if (values.length < 2 || !isNumber(values[0])) return false;
    for (var i = 1; i < values.length; i++) {
      if (!isNumber(values[i]) || values[i] < values[i - 1]) return false;
    }
    return values[values.length - 1] > values[0];
  }

  function byKey(rows) {
    var keys = Object.keys(rows[0]).filter(function (key) { return isNumber(rows[0][key]); });
    var channels = keys.map(function (key) {
      return rows.map(function (row) { return row && isNumber(row[key]) ? row[key] : NaN; });
    });
    return series(channels, keys);
  }

  /** Channels from parsed JSON, or null when it holds no numbers to draw. */
  function fromJson(value, depth) {
    depth = depth || 0;
    if (depth > 3 || value === null || typeof value !== "object") return null;
    if (!Array.isArray(value)) {
      var keys = Object.keys(value);
      var numeric = keys.filter(function (key) { return numericArray(value[key]); });
      if (numeric.length) return series(numeric.map(function (key) { return value[key]; }), numeric);
      var nested = keys.filter(function (key) { return value[key] && typeof value[key] === "object"; });
      return nested.length === 1 ? fromJson(value[nested[0]], depth + 1) : null;
    }
    if (!value.length) return null;
    if (value.every(isNumber)) return series([value]);
    if (value.every(numericArray)) {
      var width = Math.min.apply(null, value.map(function (row) { return row.length; }));
      if (value.length <= MAX_CHANNELS && width > value.length) return series(value);  // one array per channel
      var columns = [];
      for (var c = 0; c < width; c++) columns.push(value.map(function (row) { return row[c]; }));
      return series(columns);  // rows of samples
    }
    if (value[0] && typeof value[0] === "object" && !Array.isArray(value[0])) return byKey(value);
    return null;
  }

  function splitter(line) {
    var best = null;
    [",", ";", "\t"].forEach(function (delimiter) {
      var count = line.split(delimiter).length - 1;
      if (count > 0 && (!best || count > best.count)) best = { delimiter: delimiter, count: count };
    });
    return best ? function (text) { return text.split(best.delimiter); }
                : function (text) { return text.trim().split(/\s+/); };
  }

  /** Channels from CSV/TSV text: numeric columns; a first row with words is the header. */
  function fromCsv(text) {
    var lines = text.split(/\r?\n/).filter(function (line) { return line.trim() && line.charAt(0) !== "#"; });
    if (!lines.length) return null;
    var split = splitter(lines[0]);
    var rows = lines.map(function (line) { return split(line).map(function (cell) { return cell.trim().replace(/^"|"$/g, ""); }); });
    var labels = [];
    if (rows[0].some(function (cell) { return cell !== "" && !isFinite(Number(cell)); })) labels = rows.shift();
    if (!rows.length) return null;
    var width = Math.max.apply(null, rows.map(function (row) { return row.length; }));
    var channels = [];
    var names = [];
    for (var c = 0; c < width; c++) {
      var values = rows.map(function (row) { return row[c] === undefined || row[c] === "" ? NaN : Number(row[c]); });
      var good = values.filter(isNumber).length;
      if (good >= Math.max(1, 0.8 * rows.length)) {
        channels.push(values);
        names.push(labels[c] || "column " + (c + 1));
      }
    }
    return series(channels, names);
  }

  function parse(text, hint) {
    var start = text.replace(/^\uFEFF/, "").trimStart().charAt(0);
    if (hint === "json" || ((start === "[" || start === "{") && hint !== "csv")) {
      try {
        return fromJson(JSON.parse(text.replace(/^\uFEFF/, "")));
      } catch (error) {
        if (hint === "json") return null;
      }
    }
    return fromCsv(text);
  }

  /** At most `max` points: the min and the max of each bucket, in the order they occur. */
  function downsample(values, max) {
    if (values.length <= max) return values.map(function (value, index) { return [index, value]; });
    var buckets = Math.floor(max / 2);
    var size = values.length / buckets;
    var points = [];
    for (var b = 0; b < buckets; b++) {
      var from = Math.floor(b * size);
      var to = Math.min(values.length, Math.floor((b + 1) * size));
      var low = -1;
      var high = -1;
      for (var i = from; i < to; i++) {
        if (!isNumber(values[i])) continue;
        if (low < 0 || values[i] < values[low]) low = i;
        if (high < 0 || values[i] > values[high]) high = i;
      }
      if (low < 0) continue;
      points.push([Math.min(low, high), values[Math.min(low, high)]]);
      if (low !== high) points.push([Math.max(low, high), values[Math.max(low, high)]]);
    }
    return points;
  }

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
    var low = Infinity;
    var high = -Infinity;
    lines.forEach(function (points) {
      points.forEach(function (point) {
        if (point[1] < low) low = point[1];
        if (point[1] > high) high = point[1];
      });
    });
    if (!isFinite(low)) return 0;
    if (low === high) { low -= 1; high += 1; }
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
    context.fillText(label(high), pad.left - 4, pad.top);
    context.textBaseline = "bottom";
    context.fillText(label(low), pad.left - 4, height - pad.bottom);

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

  function label(value) {
    var size = Math.abs(value);
    return size !== 0 && (size >= 1e5 || size < 1e-3) ? value.toExponential(1) : String(Number(value.toPrecision(3)));
  }

  function setState(figure, state, message) {
    figure.setAttribute("data-chart-state", state);
    var caption = figure.querySelector("figcaption") || figure.appendChild(document.createElement("figcaption"));
    caption.className = "muted";
    caption.textContent = message;
  }

  /** Draw `text` (the file's contents) into the figure's canvas; returns true when something was drawn. */
  function render(figure, text, hint) {
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
    var samples = Math.max.apply(null, data.channels.map(function (channel) { return channel.length; }));
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
    about.textContent = samples + " samples" + (data.x ? " over " + data.xLabel : "") + (samples > points ? ", " + points + " points drawn" : "") +
      (data.total > data.channels.length ? "; first " + data.channels.length + " of " + data.total + " channels" : "");
    caption.appendChild(about);
    figure.setAttribute("data-chart-state", "drawn");
    figure.setAttribute("data-chart-channels", String(data.channels.length));
    return true;
  }

  function hintFor(figure, type) {
    var given = (figure.getAttribute("data-chart-type") || type || "").toLowerCase();
    if (given.indexOf("json") >= 0) return "json";
    if (given.indexOf("csv") >= 0 || given.indexOf("tab-separated") >= 0) return "csv";
    return "";
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
          render(figure, text, hintFor(figure, response.headers.get("Content-Type")));
        });
      })
      .catch(function (error) {
        setState(figure, "error", "could not draw it: " + error.message);
      });
  }

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

  window.PortalCharts = { parse: parse, render: render, downsample: downsample, maxBytes: MAX_BYTES };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
