/*
 * The numbers in sensor files, ready to draw: JSON arrays of numbers (one channel), arrays of arrays
 * (rows of channels, or one array per channel), arrays of objects / objects of arrays (one channel
 * per numeric key) and CSV/TSV (one channel per numeric column); downsampling (min and max per pixel
 * column), value ranges, axis labels, a datatype's chart settings (time in seconds, channel labels,
 * units) and a first look at a file's head (may it hold numbers at all?). Pure: no DOM, importable by
 * Node; charts.js draws what these compute.
 *
 * Nothing here spreads a big array into a call's arguments (Math.min.apply, ...values): a file of a
 * million rows would overflow the stack. Long arrays are walked with plain loops.
 */

export var MAX_POINTS = 500;
export var MAX_CHANNELS = 12;
export var MAX_BYTES = 48 * 1024 * 1024;
export var PROBE_BYTES = 4096;

function isNumber(value) {
  return typeof value === "number" && isFinite(value);
}

function numericArray(value) {
  return Array.isArray(value) && value.length > 0 && value.every(isNumber);
}

/** The length of the longest (or, with `shortest`, the shortest) of some arrays; 0 for none. */
export function extremeLength(arrays, shortest) {
  var found = -1;
  for (var i = 0; i < arrays.length; i++) {
    var length = arrays[i].length;
    if (found < 0 || (shortest ? length < found : length > found)) found = length;
  }
  return Math.max(found, 0);
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
    var width = extremeLength(value, true);
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
  var lines = text.split(/\r\n|\r|\n/).filter(function (line) { return line.trim() && line.charAt(0) !== "#"; });
  if (!lines.length) return null;
  var split = splitter(lines[0]);
  var rows = lines.map(function (line) { return split(line).map(function (cell) { return cell.trim().replace(/^"|"$/g, ""); }); });
  var labels = [];
  if (rows[0].some(function (cell) { return cell !== "" && !isFinite(Number(cell)); })) labels = rows.shift();
  if (!rows.length) return null;
  var width = extremeLength(rows);
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

/**
 * At most `max` points [index, value]: the values split into max / 2 columns (a pixel column each, as
 * charts.js asks), and of each column its min and its max, in the order they occur, so that peaks
 * survive. One pass over the values, whatever their number.
 */
export function downsample(values, max) {
  var count = values.length;
  var points = [];
  if (count <= max) {
    for (var k = 0; k < count; k++) points.push([k, values[k]]);
    return points;
  }
  var columns = Math.max(1, Math.floor(max / 2));
  var column = 0;
  var end = Math.ceil(count / columns);  // where the current column ends (exclusive)
  var low = -1;
  var high = -1;
  function flush() {
    if (low < 0) return;
    var first = Math.min(low, high);
    var last = Math.max(low, high);
    points.push([first, values[first]]);
    if (last !== first) points.push([last, values[last]]);
    low = -1;
    high = -1;
  }
  for (var i = 0; i < count; i++) {
    if (i >= end) {
      flush();
      column += 1;
      end = Math.ceil(count * (column + 1) / columns);
    }
    var value = values[i];
    if (!isNumber(value)) continue;
    if (low < 0 || value < values[low]) low = i;
    if (high < 0 || value > values[high]) high = i;
  }
  flush();
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

/**
 * The line under a chart: "1200 samples over time, 500 points drawn; first 12 of 20 channels", or with
 * a sample rate "14310 samples at 200 Hz (71.6 s)".
 */
export function chartSummary(data, points) {
  var samples = extremeLength(data.channels);
  var rate = data.rate ? " at " + axisLabel(data.rate) + " Hz (" + secondsLabel(samples / data.rate) + ")" : "";
  return samples + " samples" + rate + (data.x ? " over " + data.xLabel : "") +
    (samples > points ? ", " + points + " points drawn" : "") +
    (data.total > data.channels.length ? "; first " + data.channels.length + " of " + data.total + " channels" : "");
}

/**
 * A figure's data-chart-settings (set by the portal for a node typed with a known datatype), read
 * defensively: {name, rate, channels, units, range}, every part optional; null when unreadable.
 */
export function chartSettings(text) {
  var value;
  try {
    value = JSON.parse(text || "null");
  } catch (error) {
    return null;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  var range = Array.isArray(value.range) && value.range.length === 2 && value.range.every(isNumber) &&
    value.range[0] < value.range[1] ? value.range.slice() : null;
  return {
    name: typeof value.name === "string" ? value.name : "",
    rate: isNumber(value.rate) && value.rate > 0 ? value.rate : null,
    channels: Array.isArray(value.channels) ? value.channels.map(function (label) { return String(label); }) : [],
    units: typeof value.units === "string" ? value.units : "",
    range: range
  };
}

/**
 * The data as its datatype reads it: the datatype's channel labels, units and name, and with a sample
 * rate a time axis in seconds (sample index / rate) instead of a column taken as the x axis.
 */
export function withSettings(data, settings) {
  if (!data || !settings) return data;
  var result = Object.assign({}, data);
  if (result.x && settings.rate && settings.channels.length === result.total + 1) {
    // The "increasing first column" is one of the datatype's channels, not a time column.
    result.channels = [result.x].concat(result.channels).slice(0, MAX_CHANNELS);
    result.labels = [result.xLabel].concat(result.labels).slice(0, MAX_CHANNELS);
    result.total += 1;
    result.x = null;
    result.xLabel = "";
  }
  if (settings.channels.length) {
    result.labels = result.labels.map(function (label, index) {
      return settings.channels[index] !== undefined ? settings.channels[index] : label;
    });
  }
  result.rate = result.x ? null : settings.rate;
  result.units = settings.units;
  result.name = settings.name;
  result.range = settings.range;
  return result;
}

/** Seconds as an axis shows them: "0 s", "0.5 s", "71.6 s", "2.5 min" past ten minutes. */
export function secondsLabel(seconds) {
  if (seconds >= 600) return axisLabel(seconds / 60) + " min";
  return axisLabel(seconds) + " s";
}

/** Round tick values (1, 2 or 5 times a power of ten) from 0 to `span`, about `count` of them. */
export function timeTicks(span, count) {
  if (!(span > 0)) return [0];
  var rough = span / Math.max(1, count || 5);
  var power = Math.pow(10, Math.floor(Math.log10(rough)));
  var step = [1, 2, 5, 10].map(function (factor) { return factor * power; })
    .filter(function (candidate) { return candidate >= rough; })[0];
  var ticks = [];
  for (var k = 0; k * step <= span * (1 + 1e-9); k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/**
 * Whether the first bytes of a file (a Uint8Array, PROBE_BYTES or fewer) may hold numbers to draw:
 * text (no NUL, few control characters) starting like JSON ([ or {) or like a table of numbers.
 */
export function mayHoldNumbers(bytes) {
  var controls = 0;
  for (var i = 0; i < bytes.length; i++) {
    var byte = bytes[i];
    if (byte === 0) return false;
    if (byte < 32 && byte !== 9 && byte !== 10 && byte !== 13) controls += 1;
  }
  if (controls > bytes.length / 100) return false;
  var text = new TextDecoder("utf-8").decode(bytes).replace(/^\uFEFF/, "").trimStart();
  if (!text) return false;
  var start = text.charAt(0);
  if (start === "[" || start === "{") return true;
  var lines = text.split(/\r\n|\r|\n/).filter(function (line) { return line.trim() && line.charAt(0) !== "#"; });
  if (lines.length > 1) lines.pop();  // the last line may be cut short
  return lines.slice(0, 20).some(function (line) { return /^[\s"]*[-+.]?\d/.test(line) && /\d/.test(line); });
}
