/*
 * The numbers in sensor files, ready to draw: JSON arrays of numbers (one channel), arrays of arrays
 * (rows of channels, or one array per channel), arrays of objects / objects of arrays (one channel
 * per numeric key) and CSV/TSV (one channel per numeric column); downsampling, value ranges and axis
 * labels. Pure: no DOM, importable by Node; charts.js draws what these compute.
 */

export var MAX_POINTS = 500;
export var MAX_CHANNELS = 12;
export var MAX_BYTES = 5 * 1024 * 1024;

function isNumber(value) {
  return typeof value === "number" && isFinite(value);
}

function numericArray(value) {
  return Array.isArray(value) && value.length > 0 && value.every(isNumber);
}

/**
 * The data to draw from channels (arrays of numbers) and their labels: empty channels dropped, an
 * increasing first channel (of three or more) taken as the x axis, at most MAX_CHANNELS kept.
 * {channels, labels, total, x, xLabel}, or null when no channel is left.
 */
export function series(channels, labels) {
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

/** Whether the values only go up (never down), and end higher than they start. */
export function increasing(values) {
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
export function fromJson(value, depth) {
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
export function fromCsv(text) {
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

/** The data in a file's text (hint "json", "csv" or "" to guess), or null when there is nothing to draw. */
export function parse(text, hint) {
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

/** At most `max` points [index, value]: the min and the max of each bucket, in the order they occur. */
export function downsample(values, max) {
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

/**
 * The vertical range over every line's points: {low, high}, widened by 1 each way when flat, or
 * null when there is no number at all.
 */
export function valueRange(lines) {
  var low = Infinity;
  var high = -Infinity;
  lines.forEach(function (points) {
    points.forEach(function (point) {
      if (point[1] < low) low = point[1];
      if (point[1] > high) high = point[1];
    });
  });
  if (!isFinite(low)) return null;
  if (low === high) { low -= 1; high += 1; }
  return { low: low, high: high };
}

/** An axis label: three significant digits, exponent notation for the very large or small. */
export function axisLabel(value) {
  var size = Math.abs(value);
  return size !== 0 && (size >= 1e5 || size < 1e-3) ? value.toExponential(1) : String(Number(value.toPrecision(3)));
}

/** The line under a chart: "1200 samples over time, 500 points drawn; first 12 of 20 channels". */
export function chartSummary(data, points) {
  var samples = Math.max.apply(null, data.channels.map(function (channel) { return channel.length; }));
  return samples + " samples" + (data.x ? " over " + data.xLabel : "") + (samples > points ? ", " + points + " points drawn" : "") +
    (data.total > data.channels.length ? "; first " + data.channels.length + " of " + data.total + " channels" : "");
}
