// Each server rule the pages mirror has one JS copy, in the module named for it; the pure modules
// load without a page (nothing touches document or window at import).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";

const STATIC = new URL("../../static/", import.meta.url);
const scripts = readdirSync(STATIC).filter((name) => name.endsWith(".js"));
const source = (name) => readFileSync(new URL(name, STATIC), "utf8");

function holders(pattern) {
  return scripts.filter((name) => pattern.test(source(name)));
}

test("one copy of each mirrored rule", () => {
  assert.deepEqual(holders(/desktop\.ini|Thumbs\.db|__MACOSX/), ["paths.js"]);
  assert.deepEqual(holders(/function normalizePath\b/), ["paths.js"]);
  assert.deepEqual(holders(/function unsafePathReason\b|goes up a folder/), ["paths.js"]);
  assert.deepEqual(holders(/MAX_COMPRESSION_RATIO =/), ["zip-reader.js"]);
  assert.deepEqual(holders(/function (humanSize|humanDuration)\b/), ["sizes.js"]);
  assert.deepEqual(holders(/function findDocument\b|"info" in value/), ["datapack-document.js"]);
  assert.deepEqual(holders(/function (parse|downsample)\b/), ["chart-data.js"]);
});

test("no script leans on globals shared between scripts", () => {
  assert.deepEqual(holders(/window\.Portal/), []);
});

test("the pure modules load without a page", async () => {
  assert.equal(typeof globalThis.document, "undefined");
  for (const name of ["sizes.js", "paths.js", "datapack-document.js", "failures.js", "transfer-rules.js",
                      "file-types.js", "chart-data.js", "upload-queue.js", "zip-reader.js"]) {
    const module = await import(new URL(name, STATIC));
    assert.ok(Object.keys(module).length > 0, name);
  }
});
