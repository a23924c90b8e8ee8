// What a file's type or name says about how to show it (static/file-types.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { chartHint, localChartHint, mayHoldNumbersType, previewKind } from "../../static/file-types.js";

test("previews: media by type, charts by type or name, svg and the rest not at all", () => {
  const cases = [
    [{ type: "audio/wav", name: "tone.wav" }, "audio"],
    [{ type: "video/mp4", name: "clip.mp4" }, "video"],
    [{ type: "image/png", name: "photo.png" }, "image"],
    [{ type: "image/svg+xml", name: "drawing.svg" }, ""],
    [{ type: "application/json", name: "emg" }, "chart"],
    [{ type: "text/csv", name: "imu" }, "chart"],
    [{ type: "text/tab-separated-values", name: "imu" }, "chart"],
    [{ type: "", name: "EMG 2.json" }, "chart"],
    [{ type: "", name: "imu.tsv" }, "chart"],
    [{ type: "", name: "notes.txt" }, ""],
    [{ type: "application/octet-stream", name: "data.bin" }, ""],
    [{ name: "no type.csv" }, "chart"],
  ];
  for (const [file, kind] of cases) assert.equal(previewKind(file), kind, JSON.stringify(file));
  assert.equal(previewKind({ type: "audio/wav", name: "tone.wav" }, "image"), "image");  // the page's word wins
});

test("a local file is read as JSON by its type or name; the rest is guessed from the text", () => {
  assert.equal(localChartHint({ type: "application/json", name: "x" }), "json");
  assert.equal(localChartHint({ type: "", name: "EMG.JSON" }), "json");
  assert.equal(localChartHint({ type: "text/csv", name: "x.csv" }), "");
  assert.equal(localChartHint({ name: "x" }), "");
});

test("a fetched file is read by its data-chart-type or Content-Type", () => {
  assert.equal(chartHint("application/json; charset=utf-8"), "json");
  assert.equal(chartHint("TEXT/CSV"), "csv");
  assert.equal(chartHint("text/tab-separated-values"), "csv");
  assert.equal(chartHint("application/octet-stream"), "");
  assert.equal(chartHint(null), "");
});

test("a file whose type says nothing about its content may still be numbers (as may_hold_numbers)", () => {
  for (const type of ["", "application/octet-stream", "text/plain; charset=us-ascii", "TEXT/PLAIN", "application/json",
                      "text/csv", "application/ld+json"]) {
    assert.equal(mayHoldNumbersType(type), true, type);
  }
  for (const type of ["video/mp4", "audio/wav", "image/png", "application/pdf", "application/zip"]) {
    assert.equal(mayHoldNumbersType(type), false, type);
  }
});
