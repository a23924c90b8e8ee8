// The datatype suggested from a file's names, media type and channels (static/datatype-suggestion.js),
// on the same cases as the portal's rule (tests/portal/test_datatype_suggestion.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import * as rule from "../../static/datatype-suggestion.js";

const CASES = JSON.parse(readFileSync(new URL("../cases/datatype-suggestions.json", import.meta.url), "utf8"));

for (const item of CASES.suggest) {
  test(`suggestion for ${JSON.stringify(item.names)}, ${item.mime || "no type"}, ${item.channels} channels`, () => {
    const suggestion = rule.suggestDatatype(item.names, item.mime, item.channels);
    if (item.expect === null) assert.equal(suggestion, null);
    else assert.deepEqual(suggestion, { datatypeId: rule[item.expect], reason: item.reason });
  });
}

for (const item of CASES.channels) {
  test(`channels: ${item.why}`, () => {
    assert.equal(rule.countChannels(item.head, item.complete), item.expect);
  });
}

test("an unknown channel count is the same as none", () => {
  assert.deepEqual(rule.suggestDatatype(["acc.csv"]), { datatypeId: rule.ACCELEROMETER, reason: 'the name says "acc"' });
});
