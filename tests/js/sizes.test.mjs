// Human sizes as the portal's human_size writes them (the same cases, the same answers).
import { test } from "node:test";
import assert from "node:assert/strict";

import { humanDuration, humanSize, percent } from "../../static/sizes.js";

test("sizes read as the server writes them: decimal units, bytes whole, the rest with one decimal", () => {
  const cases = [
    [0, "0 bytes"],
    [1, "1 bytes"],
    [100, "100 bytes"],
    [999, "999 bytes"],
    [1000, "1.0 KB"],
    [1049, "1.0 KB"],
    [1050, "1.1 KB"],
    [1350, "1.4 KB"],
    [1999, "2.0 KB"],
    [37_900, "37.9 KB"],
    [999_949, "999.9 KB"],
    [999_950, "1000.0 KB"],
    [1_000_000, "1.0 MB"],
    [1_048_576, "1.0 MB"],
    [1_234_567, "1.2 MB"],
    [10_000_000, "10.0 MB"],
    [50_000_000, "50.0 MB"],
    [1_000_000_000, "1.0 GB"],
    [4096 * 1024 * 1024, "4.3 GB"],
    [1_000_000_000_000, "1000.0 GB"],
    [5_000_000_000_000, "5000.0 GB"],
  ];
  for (const [size, text] of cases) assert.equal(humanSize(size), text, `humanSize(${size})`);
});

test("an exact tie rounds to the even digit, as Python's format does", () => {
  assert.equal(humanSize(1250), "1.2 KB");
  assert.equal(humanSize(1750), "1.8 KB");
  assert.equal(humanSize(2250), "2.2 KB");
  assert.equal(humanSize(2_250_000), "2.2 MB");
  assert.equal(humanSize(1150), "1.1 KB");  // 1.15 is 1.1499… in binary: no tie, rounds down
  assert.equal(humanSize(0.5), "0 bytes");
  assert.equal(humanSize(1.5), "2 bytes");
  assert.equal(humanSize(2.5), "2 bytes");
});

test("speeds and other fractions of bytes are shown whole", () => {
  assert.equal(humanSize(123.4), "123 bytes");
  assert.equal(humanSize(999.6), "1000 bytes");
  assert.equal(humanSize(1500.4), "1.5 KB");
});

test("durations in seconds, minutes and hours", () => {
  assert.equal(humanDuration(0), "0 s");
  assert.equal(humanDuration(0.4), "0 s");
  assert.equal(humanDuration(-3), "0 s");
  assert.equal(humanDuration(59.4), "59 s");
  assert.equal(humanDuration(60), "1 min 0 s");
  assert.equal(humanDuration(200), "3 min 20 s");
  assert.equal(humanDuration(3599), "59 min 59 s");
  assert.equal(humanDuration(3600), "1 h 0 min");
  assert.equal(humanDuration(7500), "2 h 5 min");
  assert.equal(humanDuration(Infinity), "");
  assert.equal(humanDuration(NaN), "");
});

test("percent is whole and rounded down; nothing to do is done", () => {
  assert.equal(percent(0, 10), 0);
  assert.equal(percent(999, 1000), 99);
  assert.equal(percent(1000, 1000), 100);
  assert.equal(percent(1, 3), 33);
  assert.equal(percent(0, 0), 100);
});
