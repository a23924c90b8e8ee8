// The rules of a transfer that need no page (static/transfer-rules.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  RETRIES, RETRY_BASE_MS, attachFiles, filesByPath, isRetryable, retryDelay, transferSettings,
} from "../../static/transfer-rules.js";

/** An element with only the given attributes. */
function element(attributes) {
  return { getAttribute: (name) => (name in attributes ? attributes[name] : null) };
}

test("a lost connection, a timeout, too many requests and server errors are retried; refusals are not", () => {
  for (const status of [0, 408, 429, 500, 502, 503, 504]) assert.equal(isRetryable(status), true, String(status));
  for (const status of [200, 400, 401, 403, 404, 409, 413, 422, 501]) assert.equal(isRetryable(status), false, String(status));
  assert.equal(RETRIES, 3);
});

test("the delay doubles with each try, within ±20 %", () => {
  assert.equal(retryDelay(1000, 1, 0.5), 1000);
  assert.equal(retryDelay(1000, 2, 0.5), 2000);
  assert.equal(retryDelay(1000, 3, 0.5), 4000);
  assert.equal(retryDelay(1000, 1, 0), 800);
  assert.ok(Math.abs(retryDelay(1000, 1, 1) - 1200) < 1e-9);
  assert.equal(retryDelay(0, 3, 0.7), 0);
  for (let i = 0; i < 100; i++) {
    const delay = retryDelay(100, 2);
    assert.ok(delay >= 160 && delay < 240, String(delay));
  }
});

test("settings from data-* attributes, with defaults", () => {
  const given = transferSettings(element({ "data-parallel": "2", "data-retry-delay": "0", "data-login-url": "/p/auth/login",
                                           "data-datapack-url": "/p/datapacks/DATAPACK_ID" }));
  assert.equal(given.parallel, 2);
  assert.equal(given.retryDelay, 0);
  assert.equal(given.loginUrl, "/p/auth/login");
  assert.equal(given.datapackUrl("a b/c"), "/p/datapacks/a%20b%2Fc");

  const defaults = transferSettings(element({ "data-parallel": "0", "data-retry-delay": "-5" }));
  assert.equal(defaults.parallel, 4);
  assert.equal(defaults.retryDelay, RETRY_BASE_MS);
  assert.equal(defaults.loginUrl, "/auth/login");
  assert.equal(defaults.datapackUrl("x"), "/datapacks/x");
});

test("the API's uploads are matched to the chosen files by path; the rest are left out", () => {
  const a = new Blob(["a"]);
  const uploads = [{ link: "a.wav", path: "pack/a.wav", size: 1, url: "/api/a" },
                   { link: "b.wav", path: "pack/b.wav", size: 2, url: "/api/b" }];
  assert.deepEqual(attachFiles(uploads, { "pack/a.wav": a }),
                   [{ link: "a.wav", path: "pack/a.wav", size: 1, url: "/api/a", file: a }]);
  assert.deepEqual(attachFiles([], { "pack/a.wav": a }), []);
});

test("filesByPath from entries, a Map or an object", () => {
  const a = new Blob(["a"]);
  const b = new Blob(["b"]);
  assert.deepEqual(filesByPath([{ path: "a", file: a }, { path: "b", file: b }]), { a, b });
  assert.deepEqual(filesByPath(new Map([["a", a], ["b", b]])), { a, b });
  const plain = { a };
  assert.equal(filesByPath(plain), plain);
});
