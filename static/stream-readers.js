/*
 * Sensor streams read as they are really stored, recognised by their content whatever their mime type,
 * link or datatype says: JSON arrays of numeric rows ([[x, y, z], …], or a flat array of numbers for one
 * channel), and text tables (comma-, semicolon-, tab- or whitespace-separated; with or without a header
 * row; LF, CRLF or bare CR line ends; integers or decimals). A file that cannot be read gets a reason.
 * Also the events of "sparse" datatypes (onset, offset, label).
 *
 * Text is pushed in pieces as it arrives (the stream worker feeds it from the network), and the rows
 * read so far can be taken at any time, so a big stream is drawn while it loads. Pure: no DOM,
 * importable by Node and by a Worker.
 *
 *   var reader = createStreamReader();
 *   reader.push(text);                    // any number of times, pieces cut anywhere
 *   var part = reader.take();             // {columns: [Float32Array…], rows} read since the last take, or null
 *   var result = reader.finish();         // {ok, format, labels, channels, timeColumn} or {ok: false, reason}
 */

/** How many rows a JSON array must hold before its rows are surely samples (a few long ones are channels). */
var CHANNEL_ARRAYS_MAX = 16;
/** A JSON array of at most CHANNEL_ARRAYS_MAX arrays this long or longer is one array per channel. */
var CHANNEL_ARRAY_MIN_LENGTH = 256;
/** Header labels naming a column of times in seconds (kept as the time axis, not drawn as a channel). */
var TIME_LABEL = /^\s*(time|t|timestamp|seconds?|secs?)\s*(\(s\)|\[s\]|\/s|_s)?\s*$/i;
var NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export var MAX_CHANNELS = 32;

function quoteless(cell) {
  var text = cell.trim();
  if (text.length >= 2 && (text.charAt(0) === '"' || text.charAt(0) === "'") && text.charAt(text.length - 1) === text.charAt(0)) {
    text = text.slice(1, -1).trim();
  }
  return text;
}

/** A cell's number, or NaN (an empty cell, "NaN", "null" and the like are gaps). */
export function cellNumber(cell) {
  var value = +cell;  // the common case, fast: a plain number, maybe with spaces around it
  if (value === value && value !== Infinity && value !== -Infinity && (value !== 0 || /\d/.test(cell)) &&
      !/[xXbBoO]/.test(cell)) {
    return value;
  }
  var text = quoteless(cell);
  return NUMBER.test(text) ? Number(text) : NaN;
}

function isNumberCell(cell) {
  return NUMBER.test(quoteless(cell));
}

function isGapCell(cell) {
  return /^(|nan|null|none|na|n\/a|-)$/i.test(quoteless(cell));
}

/** The separator of a table's line: the most frequent of , ; tab, else runs of white space (null). */
export function separatorOf(line) {
  var best = null;
  var bestCount = 0;
  [",", ";", "\t"].forEach(function (candidate) {
    var count = line.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  });
  return best;
}

function splitCells(line, separator) {
  return separator ? line.split(separator) : line.trim().split(/\s+/);
}

function shorten(text) {
  var line = text.replace(/\s+/g, " ").trim();
  return line.length > 60 ? line.slice(0, 57) + "…" : line;
}

/** Growing columns of numbers: rows appended one by one, handed out in pieces by take(). */
function Columns() {
  this.width = 0;
  this.pending = [];  // Float32Array per column, being filled
  this.filled = 0;
  this.capacity = 0;
  this.rows = 0;
  this.widest = 0;
}

Columns.prototype.start = function (width) {
  this.width = Math.min(width, MAX_CHANNELS);
  this.widest = width;
  this.capacity = 4096;
  this.pending = [];
  for (var c = 0; c < this.width; c++) this.pending.push(new Float32Array(this.capacity));
};

Columns.prototype.add = function (values) {
  if (this.filled === this.capacity) {
    this.capacity *= 2;
    this.pending = this.pending.map(function (column) {
      var bigger = new Float32Array(this.capacity);
      bigger.set(column);
      return bigger;
    }, this);
  }
  for (var c = 0; c < this.width; c++) this.pending[c][this.filled] = c < values.length ? values[c] : NaN;
  if (values.length > this.widest) this.widest = values.length;
  this.filled += 1;
  this.rows += 1;
};

/** The rows added since the last take, one Float32Array per column (their buffers can be transferred). */
Columns.prototype.take = function () {
  if (!this.filled) return null;
  var filled = this.filled;
  var part = { columns: this.pending.map(function (column) { return column.slice(0, filled); }), rows: filled };
  this.filled = 0;
  if (this.capacity > 65536) {  // start small again rather than keep a big buffer half used
    this.capacity = 65536;
    this.pending = this.pending.map(function () { return new Float32Array(65536); }, this);
  }
  return part;
};

/* --- Text tables ------------------------------------------------------------------------------ */

function TableReader() {
  this.rest = "";
  this.separator = undefined;  // undefined: not known yet; null: white space
  this.labels = null;
  this.keep = null;  // indexes of the numeric columns (from the first data row)
  this.timeColumn = -1;
  this.times = [];
  this.columns = new Columns();
  this.firstLine = "";
  this.lineCount = 0;
  this.badRows = 0;
}

TableReader.prototype.push = function (text) {
  var all = this.rest + text;
  // A piece ending in "\r" may be half of a "\r\n": keep it until the next piece says.
  var held = "";
  if (all.charCodeAt(all.length - 1) === 13) {
    held = "\r";
    all = all.slice(0, -1);
  }
  if (all.indexOf("\r") >= 0) all = all.replace(/\r\n?/g, "\n");
  var lines = all.split("\n");
  this.rest = lines.pop() + held;
  for (var i = 0; i < lines.length; i++) this.line(lines[i]);
};

TableReader.prototype.finish = function () {
  var last = this.rest.replace(/\r$/, "");
  this.rest = "";
  if (last) this.line(last);
};

TableReader.prototype.line = function (line) {
  if (!line.trim() || /^\s*(#|\/\/|%)/.test(line)) return;  // blank lines and comments
  this.lineCount += 1;
  if (!this.firstLine) this.firstLine = line;
  if (this.separator === undefined) this.separator = separatorOf(line);
  var cells = splitCells(line, this.separator);
  if (this.keep === null) {
    var numeric = [];
    cells.forEach(function (cell, index) { if (isNumberCell(cell)) numeric.push(index); });
    if (!numeric.length) {
      if (this.labels === null && this.lineCount === 1) {  // a header row of words
        this.labels = cells.map(quoteless);
        return;
      }
      this.badRows += 1;
      return;
    }
    this.keep = numeric;
    if (this.labels && numeric.length > 1 && TIME_LABEL.test(this.labels[numeric[0]] || "")) {
      this.timeColumn = numeric[0];
      this.keep = numeric.slice(1);
    }
    this.columns.start(this.keep.length);
  }
  var values = new Array(this.keep.length);
  var good = 0;
  for (var k = 0; k < this.keep.length; k++) {
    var cell = cells[this.keep[k]];
    var value = cell === undefined ? NaN : cellNumber(cell);
    if (value === value) good += 1;
    else if (cell !== undefined && !isGapCell(cell)) {
      this.badRows += 1;  // words among the numbers: a second header, a note: not a sample
      return;
    }
    values[k] = value;
  }
  if (!good && this.timeColumn < 0) return;
  if (this.timeColumn >= 0) this.times.push(cellNumber(cells[this.timeColumn] || ""));
  this.columns.add(values);
};

TableReader.prototype.result = function () {
  if (!this.columns.rows) {
    if (!this.firstLine) return { ok: false, reason: "the file holds no data (only blank or comment lines)" };
    return { ok: false, reason: "no line of numbers in it (it starts \u201c" + shorten(this.firstLine) + "\u201d)" };
  }
  var labels = this.keep.map(function (index) { return this.labels && this.labels[index] ? this.labels[index] : ""; }, this);
  var format = this.separator === "\t" ? "tsv" : this.separator === null ? "whitespace" :
    this.separator === ";" ? "semicolon-separated" : "csv";
  return { ok: true, format: format, header: Boolean(this.labels), labels: labels,
           timeColumn: this.timeColumn >= 0 ? (this.labels[this.timeColumn] || "time") : "",
           times: this.timeColumn >= 0 ? Float64Array.from(this.times) : null,
           droppedColumns: Math.max(0, this.columns.widest - this.keep.length - (this.timeColumn >= 0 ? 1 : 0)),
           skippedLines: this.badRows, channelsCut: Math.max(0, this.keep.length - MAX_CHANNELS) };
};

/* --- JSON rows ---------------------------------------------------------------------------------- */

function JsonRowsReader() {
  this.depth = 0;
  this.token = "";
  this.row = [];
  this.flat = false;  // numbers straight in the outer array: one channel
  this.nested = false;
  this.error = "";
  this.closed = false;
  this.held = [];  // the first rows, until there are enough to know they are samples
  this.columns = new Columns();
  this.started = false;
  this.trailing = false;
}

JsonRowsReader.prototype.fail = function (reason) {
  if (!this.error) this.error = reason;
};

JsonRowsReader.prototype.number = function () {
  if (!this.token) return true;
  var token = this.token;
  this.token = "";
  var value = token === "null" ? NaN : (NUMBER.test(token) ? Number(token) : undefined);
  if (value === undefined) {
    this.fail(/^(true|false)$/.test(token) ? "its JSON holds true/false where numbers belong"
                                           : "its JSON is broken near \u201c" + shorten(token) + "\u201d");
    return false;
  }
  if (this.depth === 1) {
    if (this.nested) return this.fail("its JSON mixes numbers and rows in one array"), false;
    this.flat = true;
    this.addRow([value]);
  } else {
    this.row.push(value);
  }
  return true;
};

JsonRowsReader.prototype.addRow = function (row) {
  if (this.started) {
    this.columns.add(row);
    return;
  }
  this.held.push(row);
  if (this.held.length > CHANNEL_ARRAYS_MAX || this.flat) this.release();
};

JsonRowsReader.prototype.release = function () {
  if (this.started) return;
  var width = 0;
  this.held.forEach(function (row) { width = Math.max(width, row.length); });
  this.columns.start(width);
  this.started = true;
  this.held.forEach(function (row) { this.columns.add(row); }, this);
  this.held = [];
};

/** Whether a character code may be part of a number (or of null, true, false). */
function tokenCode(code) {
  return (code >= 48 && code <= 57) || code === 45 || code === 43 || code === 46 || (code >= 97 && code <= 122) ||
    code === 69;
}

JsonRowsReader.prototype.push = function (text) {
  var start = -1;  // where a number starts in this piece
  for (var i = 0; i < text.length && !this.error; i++) {
    var code = text.charCodeAt(i);
    if (tokenCode(code)) {
      if (this.closed) return this.fail("its JSON goes on after the closing bracket");
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0) {
      this.token += text.slice(start, i);
      start = -1;
    }
    if (code === 32 || code === 10 || code === 13 || code === 9) {
      if (!this.number()) return;
    } else if (this.closed) {
      return this.fail("its JSON goes on after the closing bracket");
    } else if (code === 91) {  // [
      if (!this.number()) return;
      this.depth += 1;
      if (this.depth === 2) {
        if (this.flat) return this.fail("its JSON mixes numbers and rows in one array");
        this.nested = true;
        this.row = [];
      } else if (this.depth > 2) {
        return this.fail("its JSON nests arrays deeper than rows of numbers");
      }
    } else if (code === 93) {  // ]
      if (!this.number()) return;
      if (this.depth === 2) this.addRow(this.row);
      this.depth -= 1;
      if (this.depth === 0) this.closed = true;
      if (this.depth < 0) return this.fail("its JSON closes a bracket it never opened");
    } else if (code === 44) {  // ,
      if (!this.number()) return;
    } else if (code === 34) {  // "
      var close = text.indexOf('"', i + 1);
      return this.fail("its JSON holds text (\u201c" + shorten(text.slice(i + 1, close > 0 ? close : i + 40)) +
                       "\u201d) where numbers belong");
    } else if (code === 123) {  // {
      return this.fail("its JSON holds objects, not rows of numbers");
    } else {
      this.token += text.charAt(i);
      if (this.depth === 0) return this.fail("it is not JSON rows of numbers");
    }
  }
  if (start >= 0) this.token += text.slice(start);
};

JsonRowsReader.prototype.finish = function () {
  if (this.error) return;
  if (this.depth > 0) return this.fail("its JSON ends before its closing bracket (cut short?)");
  if (!this.started && this.held.length) {
    var rows = this.held;
    var shortest = Infinity;
    rows.forEach(function (row) { shortest = Math.min(shortest, row.length); });
    if (shortest >= CHANNEL_ARRAY_MIN_LENGTH) {  // a few long arrays: one per channel
      this.columns.start(rows.length);
      for (var k = 0; k < shortest; k++) this.columns.add(rows.map(function (row) { return row[k]; }));
      this.started = true;
      this.held = [];
      this.perChannel = true;
      return;
    }
    this.release();
  }
};

JsonRowsReader.prototype.result = function () {
  if (this.error) return { ok: false, reason: this.error };
  if (!this.columns.rows || !this.columns.width) return { ok: false, reason: "its JSON array holds no numbers" };
  var labels = [];
  for (var c = 0; c < this.columns.width; c++) labels.push("");
  return { ok: true, format: this.perChannel ? "json-channels" : "json-rows", header: false, labels: labels,
           timeColumn: "", times: null, droppedColumns: 0, skippedLines: 0,
           channelsCut: Math.max(0, this.columns.widest - MAX_CHANNELS) };
};

/**
 * JSON rows read fast: each piece is cut after its last complete row and handed to the browser's own
 * JSON.parse (ten times faster than reading character by character). Anything that is not rows of
 * numbers is read again by JsonRowsReader, which says what is wrong.
 */
function FastJsonRowsReader() {
  this.rows = new JsonRowsReader();  // keeps the rows (the first few held back) and says why a piece is wrong
  this.columns = this.rows.columns;
  this.pending = "";
  this.opened = false;
  this.error = "";
}

FastJsonRowsReader.prototype.push = function (text) {
  if (this.error) return;
  this.pending += text;
  if (!this.opened) {
    var at = this.pending.search(/\S/);
    if (at < 0) return;
    this.pending = this.pending.slice(at + 1);  // the outer "["
    this.opened = true;
  }
  var cut = this.pending.lastIndexOf("]");
  if (cut >= 0 && !/\S/.test(this.pending.slice(cut + 1))) {  // maybe the outer "]": cut at the row before it
    cut = cut > 0 ? this.pending.lastIndexOf("]", cut - 1) : -1;
  }
  if (cut < 0) return;
  var piece = this.pending.slice(0, cut + 1);
  this.pending = this.pending.slice(cut + 1);
  this.parse(piece, "");
};

FastJsonRowsReader.prototype.parse = function (piece, closing) {
  var body = piece.replace(/^\s*,/, "");
  if (!/\S/.test(body)) return;
  var items;
  try {
    items = JSON.parse("[" + body + "]");
  } catch (error) {
    return this.explain(body, closing);
  }
  var rows = this.rows;
  for (var i = 0; i < items.length; i++) {
    var item = items[i];
    if (typeof item === "number" && !rows.nested) {
      rows.flat = true;
      rows.addRow([item]);
      continue;
    }
    if (!Array.isArray(item) || rows.flat) return this.explain(body, closing);
    for (var k = 0; k < item.length; k++) {
      var value = item[k];
      if (value === null) item[k] = NaN;
      else if (typeof value !== "number") return this.explain(body, closing);
    }
    rows.nested = true;
    rows.addRow(item);
  }
};

/** Why a piece is not rows of numbers, in JsonRowsReader's words. */
FastJsonRowsReader.prototype.explain = function (body, closing) {
  var slow = new JsonRowsReader();
  slow.push("[" + body + this.pending + closing);
  slow.finish();
  this.error = slow.error || "its JSON is broken near \u201c" + shorten(body.slice(0, 60)) + "\u201d";
};

FastJsonRowsReader.prototype.finish = function () {
  if (this.error) return;
  var rest = this.pending.replace(/\s+$/, "");
  this.pending = "";
  if (rest.charAt(rest.length - 1) !== "]") {
    this.explain(rest, "");
    if (!this.error) this.error = "its JSON ends before its closing bracket (cut short?)";
    return;
  }
  this.parse(rest.slice(0, -1), "]");
  if (this.error) return;
  this.rows.finish();
  this.error = this.rows.error;
};

FastJsonRowsReader.prototype.result = function () {
  return this.error ? { ok: false, reason: this.error } : this.rows.result();
};

/* --- JSON objects (read whole: {"x": [...], "y": [...]}) --------------------------------------- */

function JsonObjectReader() {
  this.text = "";
  this.columns = new Columns();
  this.error = "";
  this.labels = [];
}

JsonObjectReader.prototype.push = function (text) {
  this.text += text;
};

JsonObjectReader.prototype.finish = function () {
  var value;
  try {
    value = JSON.parse(this.text);
  } catch (error) {
    this.error = "its JSON is broken (" + error.message + ")";
    return;
  }
  this.text = "";
  var keys = Object.keys(value).filter(function (key) {
    return Array.isArray(value[key]) && value[key].length && value[key].every(function (item) {
      return typeof item === "number" || item === null;
    });
  });
  if (!keys.length) {
    this.error = "its JSON object has no array of numbers in it";
    return;
  }
  var length = 0;
  keys.forEach(function (key) { length = Math.max(length, value[key].length); });
  this.labels = keys.slice(0, MAX_CHANNELS);
  this.columns.start(keys.length);
  for (var k = 0; k < length; k++) {
    this.columns.add(keys.map(function (key) { var item = value[key][k]; return typeof item === "number" ? item : NaN; }));
  }
};

JsonObjectReader.prototype.result = function () {
  if (this.error) return { ok: false, reason: this.error };
  return { ok: true, format: "json-object", header: true, labels: this.labels, timeColumn: "", times: null,
           droppedColumns: 0, skippedLines: 0, channelsCut: Math.max(0, this.columns.widest - MAX_CHANNELS) };
};

/* --- The reader: picks one of the above from the first characters ---------------------------- */

/** A reader of one stream, fed text as it arrives (see the top of this file). */
export function createStreamReader() {
  var inner = null;
  var head = "";
  var refused = "";
  var bytesSeen = 0;

  function choose(text) {
    if (text.indexOf("\u0000") >= 0) {
      refused = "it is not text (binary data: audio, video or a packed format?)";
      return;
    }
    var start = text.replace(/^\uFEFF/, "").trimStart().charAt(0);
    inner = start === "[" ? new FastJsonRowsReader() : start === "{" ? new JsonObjectReader() : new TableReader();
  }

  return {
    push: function (text) {
      if (refused) return;
      bytesSeen += text.length;
      if (!inner) {
        head += text;
        if (!head.replace(/^\uFEFF/, "").trim() && head.length < 65536) return;  // nothing to go by yet
        choose(head.slice(0, 65536));
        if (refused) return;
        text = head.replace(/^\uFEFF/, "");
        head = "";
      }
      inner.push(text);
      if (inner.error) refused = inner.error;
    },
    take: function () {
      return inner && !refused ? inner.columns.take() : null;
    },
    finish: function () {
      if (refused) return { ok: false, reason: refused };
      if (!inner) {
        if (head.replace(/^\uFEFF/, "").trim()) choose(head);
        if (refused) return { ok: false, reason: refused };
        if (!inner) return { ok: false, reason: bytesSeen ? "the file holds only white space" : "the file is empty" };
        inner.push(head.replace(/^\uFEFF/, ""));
      }
      inner.finish();
      var result = inner.result();
      if (result.ok) {
        result.rows = inner.columns.rows;
        result.channels = inner.columns.width;
      }
      return result;
    }
  };
}

/** A whole text read at once: the result of finish() with `columns` (Float32Array per channel) added. */
export function readStream(text) {
  var reader = createStreamReader();
  reader.push(text);
  var result = reader.finish();
  if (!result.ok) return result;
  var parts = [];
  var part;
  while ((part = reader.take())) parts.push(part);
  result.columns = [];
  for (var c = 0; c < result.channels; c++) {
    var column = new Float32Array(result.rows);
    var at = 0;
    parts.forEach(function (piece) {
      column.set(piece.columns[c], at);
      at += piece.rows;
    });
    result.columns.push(column);
  }
  return result;
}

/* --- Events (sparse datatypes) -------------------------------------------------------------- */

function eventFrom(values) {
  var numbers = [];
  var words = [];
  values.forEach(function (value) {
    if (typeof value === "number" && isFinite(value)) numbers.push(value);
    else if (typeof value === "string" && isNumberCell(value)) numbers.push(cellNumber(value));
    else if (typeof value === "string" && value.trim()) words.push(quoteless(value));
  });
  if (!numbers.length) return null;
  var onset = numbers[0];
  var offset = numbers.length > 1 && numbers[1] >= onset ? numbers[1] : onset;
  return { onset: onset, offset: offset, label: words.join(" ") };
}

/**
 * Events (onset, offset, label) from JSON (rows, or objects with onset/offset/label-like keys) or a
 * text table (a header row allowed): {ok: true, events: [...]} by onset, or {ok: false, reason}.
 */
export function readEvents(text) {
  var body = text.replace(/^\uFEFF/, "").trim();
  if (!body) return { ok: false, reason: "the file is empty" };
  var rows = [];
  if (body.charAt(0) === "[" || body.charAt(0) === "{") {
    var value;
    try {
      value = JSON.parse(body);
    } catch (error) {
      return { ok: false, reason: "its JSON is broken (" + error.message + ")" };
    }
    if (!Array.isArray(value)) {
      var list = Object.keys(value).map(function (key) { return value[key]; }).filter(Array.isArray)[0];
      value = list || [];
    }
    rows = value.map(function (item) {
      if (Array.isArray(item)) return item;
      if (item && typeof item === "object") {
        var keys = Object.keys(item);
        var pick = function (pattern) { var key = keys.filter(function (k) { return pattern.test(k); })[0]; return key === undefined ? undefined : item[key]; };
        var onset = pick(/onset|start|begin|^t$|time/i);
        var offset = pick(/offset|end|stop/i);
        var label = pick(/label|name|type|class|note/i);
        return [onset, offset === undefined ? onset : offset, label === undefined ? "" : String(label)];
      }
      return [item];
    });
  } else {
    var lines = body.split(/\r\n|\r|\n/).filter(function (line) { return line.trim() && !/^\s*#/.test(line); });
    var separator = separatorOf(lines[0]);
    rows = lines.map(function (line) { return splitCells(line, separator); });
  }
  var events = rows.map(eventFrom).filter(Boolean);
  if (!events.length) return { ok: false, reason: "no event with a time in it" };
  events.sort(function (a, b) { return a.onset - b.onset; });
  return { ok: true, events: events };
}
