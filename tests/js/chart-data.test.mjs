// What the charts make of sensor files: parsing JSON and CSV/TSV into channels, downsampling,
// ranges and labels (the pure half of charts.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { readdirSync, readFileSync } from "node:fs";

import {
  MAX_BYTES, MAX_CHANNELS, axisLabel, chartSettings, chartSummary, downsample, extremeLength, fromCsv, fromJson,
  increasing, mayHoldNumbers, parse, secondsLabel, series, timeTicks, valueRange, withSettings,
} from "../../static/chart-data.js";

/** The shape the browser test checks too (tests/browser/test_builder.py PARSE_CASES). */
function shape(text, hint) {
  const data = parse(text, hint);
  return data && { channels: data.channels.length, samples: data.channels.map((c) => c.length),
                   labels: data.labels, x: data.x ? data.xLabel : null };
}

test("JSON shapes: numbers, rows, one array per channel, objects, keyed arrays, one wrapper", () => {
  assert.deepEqual(shape("[1, 2, 3.5, -4]"), { channels: 1, samples: [4], labels: [""], x: null });
  assert.deepEqual(shape("[[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]"),
                   { channels: 2, samples: [4, 4], labels: ["", ""], x: "column 1" });
  assert.deepEqual(shape("[[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]]"),
                   { channels: 2, samples: [6, 6], labels: ["", ""], x: null });
  assert.deepEqual(shape('[{"t": 0, "emg": 1.5, "note": "a"}, {"t": 1, "emg": 2, "note": "b"}]'),
                   { channels: 2, samples: [2, 2], labels: ["t", "emg"], x: null });
  assert.deepEqual(shape('{"x": [1, 2], "y": [3, 4], "name": "imu"}'),
                   { channels: 2, samples: [2, 2], labels: ["x", "y"], x: null });
  assert.deepEqual(shape('{"data": [1, 2, 3]}'), { channels: 1, samples: [3], labels: ["data"], x: null });
  assert.equal(shape('{"hello": "world"}'), null);
  assert.equal(shape("[]"), null);
  assert.equal(shape('{"a": {"b": {"c": {"d": {"e": [1, 2]}}}}}'), null);  // nested too deep
  assert.deepEqual(shape('{"a": {"b": {"c": {"d": [1, 2]}}}}').samples, [2]);
});

test("CSV and TSV: numeric columns, a header of words, comments and quotes", () => {
  assert.deepEqual(shape("time,left,right\n0,1,2\n1,2,3\n2,1,4\n"),
                   { channels: 2, samples: [3, 3], labels: ["left", "right"], x: "time" });
  assert.deepEqual(shape("1\t2\n3\t4\n"), { channels: 2, samples: [2, 2], labels: ["column 1", "column 2"], x: null });
  assert.deepEqual(shape('# recorded today\r\n"a";"b"\r\n1;2\r\n3;4\r\n'),
                   { channels: 2, samples: [2, 2], labels: ["a", "b"], x: null });
  assert.deepEqual(shape("1,2\r3,4\r"), { channels: 2, samples: [2, 2], labels: ["column 1", "column 2"], x: null });
  assert.deepEqual(shape("1 2\n3 4\n5 6\n"), { channels: 2, samples: [3, 3], labels: ["column 1", "column 2"], x: null });
  assert.deepEqual(shape("name,value\nx,1\ny,2\n"), { channels: 1, samples: [2], labels: ["value"], x: null });
  assert.equal(shape("just some words", "csv"), null);
  assert.equal(shape("a,b\n"), null);
  assert.equal(shape(""), null);
});

test("a column mostly of numbers is kept (its gaps as NaN); one mostly of words is not", () => {
  const data = fromCsv("a,b\n1,x\n2,y\n,z\n4,w\n5,v\n");
  assert.deepEqual(data.labels, ["a"]);
  assert.equal(data.channels[0].length, 5);
  assert.ok(Number.isNaN(data.channels[0][2]));
});

test("hints: json is read as JSON only; csv is read as CSV even when it looks like JSON", () => {
  assert.equal(parse("1,2\n3,4", "json"), null);
  assert.equal(parse("[1, 2", "json"), null);
  assert.deepEqual(shape("[1, 2", ""), null);
  assert.deepEqual(shape("\uFEFF[1, 2, 3]"), { channels: 1, samples: [3], labels: [""], x: null });
  assert.deepEqual(shape("  \n[1, 2, 3]", "json").samples, [3]);
});

test("an increasing first column of three or more is the x axis", () => {
  assert.equal(increasing([0, 1, 1, 2]), true);
  assert.equal(increasing([0, 0]), false);
  assert.equal(increasing([2, 1]), false);
  assert.equal(increasing([0, NaN, 2]), false);
  assert.equal(increasing([5]), false);
  assert.equal(series([[0, 1], [3, 4]]).x, null);  // two channels: both are drawn
  const data = series([[0, 1, 2], [3, 4, 5], [6, 7, 8]], ["t", "a", "b"]);
  assert.deepEqual(data.x, [0, 1, 2]);
  assert.equal(data.xLabel, "t");
  assert.deepEqual(data.labels, ["a", "b"]);
});

test("empty channels are dropped and at most MAX_CHANNELS are kept, the total remembered", () => {
  assert.equal(series([[], []]), null);
  assert.deepEqual(series([[], [1, 2]], ["gone", "kept"]).labels, ["kept"]);
  const many = Array.from({ length: 20 }, () => [1, 0, 1]);  // the first does not increase: no x axis
  const data = series(many);
  assert.equal(data.channels.length, MAX_CHANNELS);
  assert.equal(data.total, 20);
});

test("rows wider than tall are one array per channel; taller rows are samples", () => {
  assert.equal(fromJson([[1, 2, 3], [4, 5, 6]]).channels.length, 2);
  assert.equal(fromJson([[1, 2], [3, 4], [5, 6]]).channels.length, 2);
  assert.deepEqual(fromJson([[1, 2], [3, 4], [5, 6]]).channels[0], [1, 3, 5]);
});

test("downsample keeps at most `max` points, peaks included, in order", () => {
  const wave = Array.from({ length: 10000 }, (_, i) => Math.sin(i));
  const points = downsample(wave, 500);
  assert.ok(points.length <= 500, String(points.length));
  assert.ok(points.length >= 250);
  const indexes = points.map((point) => point[0]);
  assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b));
  const spike = Array.from({ length: 10000 }, (_, i) => (i === 4321 ? 99 : 0));
  assert.ok(downsample(spike, 100).some((point) => point[0] === 4321 && point[1] === 99));
  assert.deepEqual(downsample([3, 1, 2], 500), [[0, 3], [1, 1], [2, 2]]);
  assert.deepEqual(downsample(Array(1000).fill(NaN), 10), []);
});

test("valueRange spans every line; flat data gets room; no numbers, no range", () => {
  assert.deepEqual(valueRange([[[0, 1], [1, 5]], [[0, -2], [1, 3]]]), { low: -2, high: 5 });
  assert.deepEqual(valueRange([[[0, 4], [1, 4]]]), { low: 3, high: 5 });
  assert.equal(valueRange([[], []]), null);
  assert.equal(valueRange([]), null);
});

test("axis labels: three significant digits, exponents for the very large and small", () => {
  assert.equal(axisLabel(0), "0");
  assert.equal(axisLabel(1), "1");
  assert.equal(axisLabel(3.14159), "3.14");
  assert.equal(axisLabel(-12345), "-12300");
  assert.equal(axisLabel(123456), "1.2e+5");
  assert.equal(axisLabel(0.0001234), "1.2e-4");
  assert.equal(axisLabel(0.001), "0.001");
});

test("the summary under a chart", () => {
  const data = parse("time,left,right\n0,1,2\n1,2,3\n2,1,4\n");
  assert.equal(chartSummary(data, 3), "3 samples over time");
  assert.equal(chartSummary({ channels: [[1, 2, 3, 4]], x: null, total: 1 }, 2), "4 samples, 2 points drawn");
  assert.equal(chartSummary({ channels: [[1], [2]], x: null, total: 20 }, 1), "1 samples; first 2 of 20 channels");
});

test("a million rows per channel: parsed and downsampled to two points per pixel column, no stack overflow", () => {
  const rows = 1_000_000;
  const parts = new Array(rows);
  for (let i = 0; i < rows; i++) parts[i] = `[${(Math.sin(i / 500) * 2).toFixed(3)},${i % 1000 === 0 ? 9 : 0}]`;
  const text = "[" + parts.join(",") + "]";
  assert.ok(text.length < MAX_BYTES, "a file this size is fetched and drawn, not refused");
  const started = performance.now();
  const data = parse(text, "");
  assert.equal(data.channels.length, 2);
  assert.equal(data.channels[0].length, rows);
  const columns = 640;
  const lines = data.channels.map((channel) => downsample(channel, 2 * columns));
  const elapsed = performance.now() - started;
  for (const points of lines) assert.ok(points.length <= 2 * columns && points.length >= columns, String(points.length));
  assert.deepEqual(valueRange(lines), { low: -2, high: 9 });  // the extremes survive, spikes included
  assert.ok(lines[1].filter((point) => point[1] === 9).length >= columns / 2);
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
  assert.match(chartSummary(data, 1280), /^1000000 samples, 1280 points drawn$/);

  const csv = "a\n" + Array.from({ length: rows }, (_, i) => String(i % 7)).join("\n");
  const table = parse(csv, "csv");
  assert.equal(table.channels[0].length, rows);
  assert.deepEqual(valueRange([downsample(table.channels[0], 1000)]), { low: 0, high: 6 });
});

test("downsampling is the min and the max of each column, in order, in one pass", () => {
  assert.deepEqual(downsample([5, 1, 9, 2, 3, 8, 7, 0], 4), [[1, 1], [2, 9], [5, 8], [7, 0]]);
  assert.deepEqual(downsample([1, NaN, 3, NaN], 2), [[0, 1], [2, 3]]);
  assert.equal(extremeLength([[1, 2], [1, 2, 3], []]), 3);
  assert.equal(extremeLength([[1, 2], [1, 2, 3]], true), 2);
  assert.equal(extremeLength([]), 0);
});

test("no script spreads an array into a call's arguments (a big file would overflow the stack)", () => {
  const folder = new URL("../../static/", import.meta.url);
  for (const name of readdirSync(folder).filter((file) => file.endsWith(".js"))) {
    const code = readFileSync(new URL(name, folder), "utf8").replace(/^\s*(\/\/|\*).*$/gm, "");
    assert.doesNotMatch(code, /\.apply\(\s*null/, name);
    assert.doesNotMatch(code, /Math\.(min|max)\(\s*\.\.\./, name);
  }
});

const ACCELEROMETER = '{"name": "3-axis accelerometer", "rate": 200, "channels": ["X", "Y", "Z"], "units": "g", "range": null}';

test("a datatype's settings: read defensively", () => {
  assert.deepEqual(chartSettings(ACCELEROMETER),
                   { name: "3-axis accelerometer", rate: 200, channels: ["X", "Y", "Z"], units: "g", range: null });
  assert.deepEqual(chartSettings('{"rate": -1, "channels": "X", "range": [1, -1]}'),
                   { name: "", rate: null, channels: [], units: "", range: null });
  assert.deepEqual(chartSettings('{"range": [-1, 1]}').range, [-1, 1]);
  assert.equal(chartSettings("not json"), null);
  assert.equal(chartSettings(null), null);
  assert.equal(chartSettings("[1]"), null);
});

test("with its datatype, data gets channel labels, units, a name and a time axis in seconds", () => {
  const rows = JSON.stringify(Array.from({ length: 401 }, (_, i) => [Math.sin(i / 10), Math.cos(i / 10), 0.98]));
  const data = withSettings(parse(rows, ""), chartSettings(ACCELEROMETER));
  assert.deepEqual(data.labels, ["X", "Y", "Z"]);
  assert.equal(data.units, "g");
  assert.equal(data.name, "3-axis accelerometer");
  assert.equal(data.rate, 200);
  assert.equal(chartSummary(data, 401), "401 samples at 200 Hz (2 s)");
  // A first channel that only goes up is still one of the datatype's channels, not a time column.
  const climbing = JSON.stringify(Array.from({ length: 50 }, (_, i) => [i, 1, 2]));
  const three = withSettings(parse(climbing, ""), chartSettings(ACCELEROMETER));
  assert.equal(three.x, null);
  assert.deepEqual(three.labels, ["X", "Y", "Z"]);
  assert.equal(three.channels[0][49], 49);
  assert.equal(withSettings(null, chartSettings(ACCELEROMETER)), null);
  assert.deepEqual(withSettings(parse("[1, 2]"), null).labels, [""]);
});

test("time ticks are round numbers of seconds; labels say s (or min past ten minutes)", () => {
  assert.deepEqual(timeTicks(71.6, 5), [0, 20, 40, 60]);
  assert.deepEqual(timeTicks(2, 4), [0, 0.5, 1, 1.5, 2]);
  assert.deepEqual(timeTicks(0, 5), [0]);
  assert.equal(secondsLabel(0), "0 s");
  assert.equal(secondsLabel(71.56), "71.6 s");
  assert.equal(secondsLabel(0.5), "0.5 s");
  assert.equal(secondsLabel(1800), "30 min");
});

test("a first look at a file's head: text that starts like JSON or a table of numbers may be charted", () => {
  const bytes = (text) => new TextEncoder().encode(text);
  assert.equal(mayHoldNumbers(bytes("[[0.947266, -0.337891, 0.169922], [0.9")), true);
  assert.equal(mayHoldNumbers(bytes("\uFEFF  {\"x\": [1, 2]}")), true);
  assert.equal(mayHoldNumbers(bytes("time,left\n0,1\n1,2\n2,")), true);
  assert.equal(mayHoldNumbers(bytes("# comment\n-1.5 2\n3 4\n")), true);
  assert.equal(mayHoldNumbers(bytes("Dear reader,\nthese are my notes.\n")), false);
  assert.equal(mayHoldNumbers(bytes("")), false);
  assert.equal(mayHoldNumbers(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2])), false);  // a PNG
  assert.equal(mayHoldNumbers(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81])), false);  // WebM
});
