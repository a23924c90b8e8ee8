// After a lost answer, and files left out of an upload (static/transfer-rules.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { leftOutNote, stillPending, transferSettings } from "../../static/transfer-rules.js";

function element(attributes) {
  return { getAttribute: (name) => (name in attributes ? attributes[name] : null) };
}

test("a 404's link is checked against what the portal lists as still pending", () => {
  const listing = (status, links) => ({ status, body: { uploads: [], pending_links: links } });
  assert.equal(stillPending(listing(200, ["b.wav"]), "a.json"), false);  // arrived: only its answer was lost
  assert.equal(stillPending(listing(200, []), "a.json"), false);  // the datapack is complete
  assert.equal(stillPending(listing(200, ["a.json", "b.wav"]), "a.json"), true);
  assert.equal(stillPending(listing(422, ["b.wav"]), "a.json"), false);  // none of the files matches what is left
  assert.equal(stillPending(listing(422, ["a.json"]), "a.json"), true);
});

test("an answer that does not tell leaves the file failed", () => {
  assert.equal(stillPending({ status: 404, body: { error: "Datapack not found" } }, "a.json"), null);
  assert.equal(stillPending({ status: 500, body: null }, "a.json"), null);
  assert.equal(stillPending({ status: 200, body: { uploads: [] } }, "a.json"), null);  // no pending_links
  assert.equal(stillPending({ status: 200, body: { pending_links: "a.json" } }, "a.json"), null);
  assert.equal(stillPending(undefined, "a.json"), null);
});

test("the pending URL comes from the form, with the datapack's id in it", () => {
  assert.equal(transferSettings(element({ "data-pending-url": "/p/api/datapacks/DATAPACK_ID/pending" })).pendingUrl("a b"),
               "/p/api/datapacks/a%20b/pending");
  assert.equal(transferSettings(element({})).pendingUrl("x"), "/api/datapacks/x/pending");
});

test("files left out are counted and named", () => {
  assert.equal(leftOutNote(undefined), null);  // an answer without left_out
  assert.equal(leftOutNote([]), null);
  assert.equal(leftOutNote(["notes.txt"]), "Not uploaded: 1 file no data node refers to — notes.txt.");
  assert.equal(leftOutNote(["a", "b"]), "Not uploaded: 2 files no data node refers to — a, b.");
  assert.equal(leftOutNote(["a", "b", "c", "d", "e", "f", "g"]),
               "Not uploaded: 7 files no data node refers to — a, b, c, d, e and 2 more.");
  assert.equal(leftOutNote(["a", "b", "c"], 2), "Not uploaded: 3 files no data node refers to — a, b and 1 more.");
  assert.equal(leftOutNote(["ok", 3, null]), "Not uploaded: 1 file no data node refers to — ok.");
});
