// Sensor streams as they are really stored: JSON rows, CSV/TSV/whitespace tables with or without a
// header, every line-end convention, fed whole or in pieces cut anywhere; unreadable files say why.
import { test } from "node:test";
import assert from "node:assert/strict";

import { MAX_CHANNELS, createStreamReader, readEvents, readStream } from "../../static/stream-readers.js";

/** What the timeline gets from a text: format, labels and the channels as plain arrays. */
function read(text) {
  const result = readStream(text);
  if (!result.ok) return result;
  return { format: result.format, header: result.header, labels: result.labels, time: result.timeColumn,
           channels: result.columns.map((column) => Array.from(column)) };
}

/** The same text fed in pieces of `size` characters, taking the rows read so far after each piece. */
function readInPieces(text, size) {
  const reader = createStreamReader();
  const columns = [];
  for (let at = 0; at < text.length; at += size) {
    reader.push(text.slice(at, at + size));
    for (let part = reader.take(); part; part = reader.take()) {
      part.columns.forEach((column, index) => { columns[index] = (columns[index] || []).concat(Array.from(column)); });
    }
  }
  const result = reader.finish();
  for (let part = reader.take(); part; part = reader.take()) {
    part.columns.forEach((column, index) => { columns[index] = (columns[index] || []).concat(Array.from(column)); });
  }
  return { ok: result.ok, rows: result.rows, channels: columns };
}

// The EMG file as the real server served it: comma-separated integers, one sample per line, no header.
const EMG_LINES = ["-1,1,0,-1,-1,-1,1,1", "-2,-3,-1,-3,0,-2,-3,-2", "4,2,0,1,-1,3,2,0"];
const EMG_CHANNELS = [[-1, -2, 4], [1, -3, 2], [0, -1, 0], [-1, -3, 1], [-1, 0, -1], [-1, -2, 3], [1, -3, 2], [1, -2, 0]];

for (const [name, end] of [["LF", "\n"], ["CRLF", "\r\n"], ["bare CR", "\r"]]) {
  test(`headerless CSV of integers with ${name} line ends`, () => {
    for (const last of ["", end]) {  // with and without a line end after the last sample
      const data = read(EMG_LINES.join(end) + last);
      assert.equal(data.format, "csv");
      assert.equal(data.header, false);
      assert.deepEqual(data.channels, EMG_CHANNELS);
      assert.deepEqual(data.labels, Array(8).fill(""));
    }
  });

  test(`CSV with a header row and decimals, ${name} line ends`, () => {
    const data = read(["x,y,z", "0.947266,-0.337891,0.169922", "1.5,-2.25,1e-3"].join(end) + end);
    assert.equal(data.header, true);
    assert.deepEqual(data.labels, ["x", "y", "z"]);
    assert.deepEqual(data.channels.map((c) => c.map((v) => Number(v.toPrecision(6)))),
                     [[0.947266, 1.5], [-0.337891, -2.25], [0.169922, 0.001]]);
  });

  test(`TSV, with and without a header, ${name} line ends`, () => {
    assert.deepEqual(read(["1\t2", "3\t4"].join(end)).channels, [[1, 3], [2, 4]]);
    const headed = read(["left\tright", "1\t2", "3\t4"].join(end));
    assert.equal(headed.format, "tsv");
    assert.deepEqual(headed.labels, ["left", "right"]);
    assert.deepEqual(headed.channels, [[1, 3], [2, 4]]);
  });

  test(`whitespace-separated columns, ${name} line ends`, () => {
    const data = read(["  1   2.5  -3", "4 5 6"].join(end));
    assert.equal(data.format, "whitespace");
    assert.deepEqual(data.channels, [[1, 4], [2.5, 5], [-3, 6]]);
  });
}

test("a CRLF split between two pieces is one line end, not two", () => {
  const text = EMG_LINES.join("\r\n") + "\r\n";
  for (const size of [1, 2, 3, 7, 18, 19]) {
    const data = readInPieces(text, size);
    assert.equal(data.rows, 3, `pieces of ${size}`);
    assert.deepEqual(data.channels, EMG_CHANNELS, `pieces of ${size}`);
  }
});

test("JSON rows as the public example stores them, whole and in pieces", () => {
  const text = "[[0.947266, -0.337891, 0.169922], [1, 2, 3],\n [-4e2, 5.5, null]]";
  const data = read(text);
  assert.equal(data.format, "json-rows");
  assert.deepEqual(data.channels.map((c) => c.map((v) => Number(v.toPrecision(6)))),
                   [[0.947266, 1, -400], [-0.337891, 2, 5.5], [0.169922, 3, NaN]]);
  for (const size of [1, 5, 13]) assert.deepEqual(readInPieces(text, size).rows, 3);
  const reader = createStreamReader();  // the whole file in one piece, then an empty one (the decoder's last)
  reader.push(text);
  reader.push("");
  assert.equal(reader.finish().rows, 3);
  assert.deepEqual(read("[1, 2, 3.5, -4]").channels, [[1, 2, 3.5, -4]]);  // a flat array: one channel
});

test("a few long JSON arrays are one array per channel", () => {
  const left = Array.from({ length: 300 }, (_, i) => i);
  const data = read(JSON.stringify([left, left.map((v) => -v)]));
  assert.equal(data.format, "json-channels");
  assert.equal(data.channels.length, 2);
  assert.equal(data.channels[1][299], -299);
});

test("a JSON object of arrays: one channel per key", () => {
  const data = read('{"x": [1, 2], "y": [3, 4], "name": "imu"}');
  assert.deepEqual(data.labels, ["x", "y"]);
  assert.deepEqual(data.channels, [[1, 2], [3, 4]]);
});

test("a time column named in the header is the time axis, not a channel", () => {
  const data = read("time,left,right\n0,1,2\n0.01,2,3\n0.02,1,4\n");
  assert.equal(data.time, "time");
  assert.deepEqual(data.labels, ["left", "right"]);
  assert.deepEqual(readStream("time,left\n0,1\n0.5,2\n").times, Float64Array.from([0, 0.5]));
});

test("comments, blank lines, quotes, semicolons, a BOM and gaps", () => {
  const data = read('\uFEFF# recorded today\r\n\r\n"a";"b"\r\n1;2\r\n;4\r\n');
  assert.deepEqual(data.labels, ["a", "b"]);
  assert.deepEqual(data.channels, [[1, NaN], [2, 4]]);
  const words = read("name,value\nx,1\ny,2\n");  // a column of words is left out
  assert.deepEqual(words.labels, ["value"]);
  assert.deepEqual(words.channels, [[1, 2]]);
});

test("the rows read so far can be taken while the stream arrives", () => {
  const reader = createStreamReader();
  reader.push("1,2\n3,4\n5,");
  const part = reader.take();
  assert.equal(part.rows, 2);
  assert.ok(part.columns[0] instanceof Float32Array);
  assert.equal(reader.take(), null);
  reader.push("6\n");
  assert.equal(reader.finish().rows, 3);
  assert.deepEqual(Array.from(reader.take().columns[1]), [6]);
});

test(`at most ${MAX_CHANNELS} channels are kept, and the result says how many were cut`, () => {
  const row = Array.from({ length: MAX_CHANNELS + 4 }, (_, i) => i).join(",");
  const result = readStream(row + "\n" + row);
  assert.equal(result.columns.length, MAX_CHANNELS);
  assert.equal(result.channelsCut, 4);
});

test("a file that cannot be read says why", () => {
  const reasons = {
    "": /empty/,
    "   \n\r\n": /white space/,
    "# only a comment\n": /no data/,
    "Recorded on a rainy day.\nThe left electrode slipped once.\n": /no line of numbers in it \(it starts “Recorded on a rainy day\.”\)/,
    "[[1, 2], [3, 4]": /cut short/,
    '[["a", 1]]': /holds text \(“a”\) where numbers belong/,
    '[{"x": 1}]': /objects/,
    "[[[1]]]": /deeper/,
    "[1, [2]]": /mixes/,
    "[1, 2] x": /goes on after/,
    "[true]": /true\/false/,
    "[[]]": /holds no numbers/,
    '{"hello": "world"}': /no array of numbers/,
    "{oops": /JSON is broken/,
    "RIFF\u0000\u0000\u0000WAVE": /not text/,
  };
  for (const [text, reason] of Object.entries(reasons)) {
    const result = readStream(text);
    assert.equal(result.ok, false, JSON.stringify(text));
    assert.match(result.reason, reason, JSON.stringify(text));
  }
});

test("events: onset, offset and label from CSV, JSON rows and JSON objects", () => {
  const csv = readEvents("onset,offset,type\n1.5,1.7,snare\n0.5,0.6,kick\n");
  assert.deepEqual(csv.events, [{ onset: 0.5, offset: 0.6, label: "kick" }, { onset: 1.5, offset: 1.7, label: "snare" }]);
  assert.deepEqual(readEvents('[[0.1, 0.2, "hihat"]]').events, [{ onset: 0.1, offset: 0.2, label: "hihat" }]);
  assert.deepEqual(readEvents('[{"onset": 2, "offset": 3, "label": "x"}]').events, [{ onset: 2, offset: 3, label: "x" }]);
  assert.deepEqual(readEvents("3\r4\r").events.map((e) => e.onset), [3, 4]);  // onsets only: points in time
  assert.match(readEvents("just words\n").reason, /no event/);
  assert.match(readEvents("").reason, /empty/);
});
