// The timeline's numbers: the min/max pyramid gives what a plain scan gives, whatever arrives when;
// zoomed in far enough every sample is drawn; zoom, pan and a stream's timing.
import { test } from "node:test";
import assert from "node:assert/strict";

import { SampleStore, eventsAt, following, panned, sampleAt, secondsLabel, streamTiming, timeText, visibleData,
         zoomed } from "../../static/timeline-data.js";

function noise(length, seed) {
  const values = new Float32Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    values[i] = (state / 2147483648) * 2 - 1;
  }
  return values;
}

function scan(values, from, to) {
  let low = Infinity;
  let high = -Infinity;
  for (let i = from; i < to; i++) {
    if (values[i] < low) low = values[i];
    if (values[i] > high) high = values[i];
  }
  return [low, high];
}

test("the pyramid's extremes equal a plain scan, with the rows arriving in uneven pieces", () => {
  const values = noise(300000, 7);
  const store = new SampleStore(1);
  for (let at = 0, piece = 1; at < values.length; at += piece, piece = piece * 3 + 7) {
    store.append([values.subarray(at, Math.min(values.length, at + piece))], Math.min(piece, values.length - at));
  }
  assert.equal(store.length, values.length);
  for (const [from, to] of [[0, 300000], [17, 70001], [4096, 8192], [123457, 123458], [65535, 200001]]) {
    assert.deepEqual(store.extremes(0, from, to), scan(values, from, to), `${from}–${to}`);
  }
});

test("zoomed out: two points per pixel column, min and max, peaks kept", () => {
  const values = new Float32Array(1000000);
  values[654321] = 9;  // one spike among a million samples
  const store = new SampleStore(1);
  store.append([values], values.length);
  const shown = visibleData(store, 200, 0, 5000, 800);
  assert.equal(shown.every, false);
  assert.ok(shown.data[0].length <= 1600);
  assert.equal(Math.max(...shown.data[1]), 9);
  assert.equal(shown.high, 9);
});

test("zoomed out, every column's extremes are those of its own samples, and the columns cover the range", () => {
  const values = noise(300001, 3);
  const store = new SampleStore(1);
  store.append([values], values.length);
  for (const [t0, t1, columns] of [[0, 1500, 700], [12.34, 987.6, 1001], [100, 160, 333]]) {
    const shown = visibleData(store, 200, t0, t1, columns);
    const xs = shown.data[0];
    for (let k = 0; k < xs.length; k += 2) {
      const from = Math.round(xs[k] * 200);
      const to = k + 2 < xs.length ? Math.round(xs[k + 2] * 200) : Math.min(values.length, Math.ceil(t1 * 200) + 2);
      assert.deepEqual([shown.data[1][k], shown.data[1][k + 1]], scan(values, from, to), `${t0}–${t1}, column ${k / 2}`);
    }
  }
});

test("zoomed in: every sample of the visible range, gaps as null", () => {
  const store = new SampleStore(2);
  store.append([Float32Array.from([0, 1, 2, 3, 4, 5]), Float32Array.from([5, NaN, 3, 2, 1, 0])], 6);
  const shown = visibleData(store, 2, 0.5, 2, 100);  // samples 0..5 at 2 Hz
  assert.equal(shown.every, true);
  assert.deepEqual(shown.data[0], [0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(shown.data[2], [5, null, 3, 2, 1, 0]);
});

test("a stream's timing: its datatype, its time column, stretched over the video, or by sample index", () => {
  assert.deepEqual(streamTiming(200, 14310, null, 71.6), { rate: 200, how: "datatype" });
  assert.deepEqual(streamTiming(null, 3, Float64Array.from([0, 0.5, 1]), 10), { rate: 2, how: "time-column" });
  assert.deepEqual(streamTiming(null, 1001, null, 10), { rate: 100, how: "stretched" });
  assert.deepEqual(streamTiming(null, 1001, null, null), { rate: 1, how: "index" });
});

test("zoom keeps the time under the pointer in place; pan and follow stay within the recording", () => {
  assert.deepEqual(zoomed([0, 10], 0.5, 5, 10), [2.5, 7.5]);
  assert.deepEqual(zoomed([0, 10], 0.5, 0, 10), [0, 5]);
  assert.deepEqual(zoomed([2, 4], 100, 3, 10), [0, 10]);
  assert.deepEqual(panned([2, 4], -5, 10), [0, 2]);
  assert.deepEqual(panned([2, 4], 50, 10), [8, 10]);
  assert.deepEqual(following([0, 2], 1, 10), [0, 2]);
  assert.deepEqual(following([0, 2], 5, 10).map((v) => Number(v.toFixed(6))), [4.8, 6.8]);
});

test("labels, the sample under the cursor and the events under it", () => {
  assert.equal(secondsLabel(12, 5), "12 s");
  assert.equal(secondsLabel(2.5, 0.5), "2.5 s");
  assert.equal(secondsLabel(7.5, 2.5), "7.5 s");  // never rounded to a tick it is not
  assert.equal(secondsLabel(0.25, 0.05), "0.25 s");
  assert.equal(secondsLabel(65, 5), "1:05");
  assert.equal(secondsLabel(45, 5, true), "0:45");  // an axis reaching past a minute reads alike
  assert.equal(secondsLabel(45.5, 0.5, true), "45.5 s");
  assert.equal(timeText(41.6), "41.6 s");
  assert.equal(timeText(71.6), "1 min 11.6 s");
  assert.equal(timeText(125.25), "2 min 5.3 s");
  assert.equal(sampleAt(0.5, 200, 400), 100);
  assert.equal(sampleAt(3, 200, 400), -1);
  const events = [{ onset: 1, offset: 2, label: "a" }, { onset: 3, offset: 3, label: "b" }];
  assert.deepEqual(eventsAt(events, 1.5).map((e) => e.label), ["a"]);
  assert.deepEqual(eventsAt(events, 3.05, 0.1).map((e) => e.label), ["b"]);
  assert.deepEqual(eventsAt(events, 2.5), []);
});
