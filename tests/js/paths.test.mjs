// Paths of chosen files, pinned to the server's answers: the portal's normalize_path
// (tests/portal/test_datapack.py test_normalize_path) and its is_ignored
// (tests/portal/test_archive.py test_is_ignored and the desktop litter test).
import { test } from "node:test";
import assert from "node:assert/strict";

import { baseName, chosenPath, isIgnored, normalizePath } from "../../static/paths.js";

test("normalizePath: the cases of test_normalize_path", () => {
  const cases = [
    ["a.json", "a.json"],
    ["./a.json", "a.json"],
    ["sensors\\emg 2.json", "sensors/emg 2.json"],
    ["pack\\sensors\\a.json", "pack/sensors/a.json"],
    ["/pack/a.json", "pack/a.json"],
    ["pack//sensors/./a.json", "pack/sensors/a.json"],
    ["pack/", "pack"],
    ["", ""],
  ];
  for (const [path, normal] of cases) assert.equal(normalizePath(path), normal, `normalizePath(${JSON.stringify(path)})`);
});

test("normalizePath: '..' and the corners, as posixpath.normpath answers them", () => {
  const cases = [
    ["a/../b", "b"],
    ["a\\..\\b", "b"],
    ["a/b/..", "a"],
    ["../a", "../a"],
    ["a/../../b", "../b"],
    ["/../a", "a"],
    ["//a", "a"],
    [".", "."],
    ["a/..", "."],
    ["/", ""],
    ["./pack/video.mp4", "pack/video.mp4"],
    ["pack\\datapack.json", "pack/datapack.json"],
  ];
  for (const [path, normal] of cases) assert.equal(normalizePath(path), normal, `normalizePath(${JSON.stringify(path)})`);
  assert.equal(normalizePath(null), "");
  assert.equal(normalizePath(undefined), "");
});

test("normalizePath composed: decomposed names (macOS) become composed, as the portal compares them", () => {
  const decomposed = "sen\u0303al/donne\u0301es.csv";
  assert.equal(normalizePath(decomposed), decomposed);
  assert.equal(normalizePath(decomposed, true), "señal/données.csv");
  assert.equal(normalizePath("./señal ✓\\datapack.json", true), "señal ✓/datapack.json");
});

test("baseName is the last part of the normalised path", () => {
  assert.equal(baseName("pack/sensors/emg 2.json"), "emg 2.json");
  assert.equal(baseName("pack\\sensors\\a.json"), "a.json");
  assert.equal(baseName("pack/"), "pack");
  assert.equal(baseName("a.json"), "a.json");
});

test("isIgnored: the cases of test_is_ignored", () => {
  const cases = [
    ["__MACOSX/pack/._a.json", true],
    [".DS_Store", true],
    ["pack/.DS_Store", true],
    ["pack/Thumbs.db", true],
    ["desktop.ini", true],
    ["pack/._emg.json", true],
    ["pack/emg.json", false],
    ["pack/MACOSX/a.json", false],
    ["pack/.hidden.json", false],
    ["pack/DS_Store.json", false],
  ];
  for (const [path, ignored] of cases) assert.equal(isIgnored(path), ignored, `isIgnored(${JSON.stringify(path)})`);
});

test("isIgnored: the desktop litter of a zipped folder, and nothing else of it", () => {
  const litter = ["__MACOSX/pack/._datapack.json", "__MACOSX/pack/._video.mp4", "pack/.DS_Store", "pack/sub/.DS_Store",
                  "pack/Thumbs.db", "pack/desktop.ini", "pack/._video.mp4"];
  const kept = ["pack/datapack.json", "pack/video.mp4"];
  assert.deepEqual([...kept, ...litter].filter((path) => !isIgnored(path)), kept);
});

test("isIgnored reads the path as the portal does: normalised first", () => {
  // The portal normalises every path (the upload and the builder alike) before is_ignored.
  assert.equal(isIgnored("./__MACOSX/pack/a.json"), true);
  assert.equal(isIgnored("pack\\.DS_Store"), true);
  assert.equal(isIgnored("pack/__MACOSX/a.json"), false);  // only a top-level __MACOSX folder
  assert.equal(isIgnored("pack/__MACOSX/._a.json"), true);
});

test("chosenPath: relative to the chosen folder, or the file's name", () => {
  assert.equal(chosenPath({ name: "a.wav", webkitRelativePath: "pack/a.wav" }), "pack/a.wav");
  assert.equal(chosenPath({ name: "a.wav", webkitRelativePath: "" }), "a.wav");
  assert.equal(chosenPath({ name: "a.wav" }), "a.wav");
});
