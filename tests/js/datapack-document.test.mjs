// Finding the datapack document among chosen files, pinned to the portal's find_document
// (the cases of tests/portal/test_archive.py "finding the document", with the same messages).
import { test } from "node:test";
import assert from "node:assert/strict";

import { dataLinks, documentPaths, findDocument, parseDocument, readChosenDocument } from "../../static/datapack-document.js";
import { isIgnored } from "../../static/paths.js";

const DOCUMENT = {
  info: { name: "MYO", author: "a", description: "d", keywords: [] },
  children: [{ class: "data", name: "Video", link: "video.mp4" }],
};
const DOC = JSON.stringify(DOCUMENT);
const SENSOR = "[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]";
const MAX_JSON = 64 * 1024;
const NO_DOCUMENT = "no datapack document found: add the .json file that has 'info' and 'children'";

/** Chosen files as upload.js holds them: {path, file}, the file a Blob (what a File is). */
function entries(...pairs) {
  return pairs.map(([path, text]) => ({ path, file: new Blob([text]) }));
}

async function problemsOf(promise) {
  try {
    await promise;
  } catch (failure) {
    return failure.problems;
  }
  assert.fail("expected the promise to be refused with problems");
}

test("the document at the top", async () => {
  const chosen = entries(["datapack.json", DOC], ["video.mp4", "v".repeat(1000)], ["emg 2.json", SENSOR]);
  const found = await findDocument(chosen, MAX_JSON);
  assert.equal(found.entry, chosen[0]);
  assert.deepEqual(found.document, DOCUMENT);
});

test("the document inside one folder", async () => {
  const chosen = entries(["MYO pack/video.mp4", "v"], ["MYO pack/sensors/emg 2.json", SENSOR], ["MYO pack/datapack.json", DOC]);
  const found = await findDocument(chosen, MAX_JSON);
  assert.equal(found.entry.path, "MYO pack/datapack.json");
  assert.deepEqual(found.document, DOCUMENT);
});

test("no document", async () => {
  const chosen = entries(["video.mp4", "v"], ["emg.json", SENSOR], ["notes.json", '{"info": "only"}']);
  assert.deepEqual(await problemsOf(findDocument(chosen, MAX_JSON)), [NO_DOCUMENT]);
  assert.deepEqual(await problemsOf(findDocument([], MAX_JSON)), [NO_DOCUMENT]);
});

test("no document when it is too large says so", async () => {
  const chosen = entries(["video.mp4", "v"], ["datapack.json", DOC]);
  assert.deepEqual(await problemsOf(findDocument(chosen, 100)), [
    NO_DOCUMENT + " (.json files larger than 100 bytes are not read: 'datapack.json')"]);
});

test("too large .json files are named, three at most", async () => {
  const big = "x".repeat(200);
  const chosen = entries(["a.json", big], ["./b.json", big], ["c.json", big], ["d.json", big]);
  assert.deepEqual(await problemsOf(findDocument(chosen, 100)), [
    NO_DOCUMENT + " (.json files larger than 100 bytes are not read: 'a.json', 'b.json', 'c.json', …)"]);
});

test("two documents at the same depth", async () => {
  const chosen = entries(["a/datapack.json", DOC], ["b/copy.json", DOC], ["a/video.mp4", "v"]);
  assert.deepEqual(await problemsOf(findDocument(chosen, MAX_JSON)), [
    "several datapack documents were found ('a/datapack.json', 'b/copy.json'): send one"]);
});

test("the shallowest document wins", async () => {
  const other = JSON.stringify({ ...DOCUMENT, info: { ...DOCUMENT.info, name: "old" } });
  const chosen = entries(["pack/old/datapack.json", other], ["pack/datapack.json", DOC], ["pack/x/y/z.json", other]);
  const found = await findDocument(chosen, MAX_JSON);
  assert.equal(found.entry.path, "pack/datapack.json");
  assert.equal(found.document.info.name, "MYO");
});

test("sensor JSON beside the document is not mistaken for it", async () => {
  const latin = new Blob([new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x20, 0x31, 0x7d])]);  // {"é": 1} in latin-1
  const chosen = [
    ...entries(["emg 2.json", SENSOR], ["accelerometer.json", '{"x": [1, 2], "rate": 100}'], ["broken.json", "{not json"]),
    { path: "latin.json", file: latin },
    ...entries(["deep.json", "[".repeat(100_000) + "]".repeat(100_000)], ["datapack.json", DOC]),
  ];
  const found = await findDocument(chosen, 1024 * 1024);
  assert.equal(found.entry.path, "datapack.json");
  assert.deepEqual(found.document, DOCUMENT);
});

test("the document is recognised by shape, not name", async () => {
  const chosen = entries(["MYO_various.JSON", DOC], ["datapack.json", SENSOR], ["readme.txt", DOC]);
  assert.equal((await findDocument(chosen, MAX_JSON)).entry.path, "MYO_various.JSON");
});

test("a document that breaks the rules is found and left to the rules", async () => {
  const broken = { ...DOCUMENT, children: [{ class: "data", name: "x", text: "" }] };
  const found = await findDocument(entries(["datapack.json", JSON.stringify(broken)]), MAX_JSON);
  assert.deepEqual(found.document, broken);
});

test("the desktop's litter left out first, the document is found beside the files", async () => {
  const chosen = entries(["pack/datapack.json", DOC], ["pack/video.mp4", "v"], ["__MACOSX/pack/._datapack.json", DOC],
                         ["pack/._video.mp4", "junk"], ["pack/.DS_Store", "junk"]);
  const kept = chosen.filter((entry) => !isIgnored(entry.path));
  assert.deepEqual(kept.map((entry) => entry.path), ["pack/datapack.json", "pack/video.mp4"]);
  assert.deepEqual((await findDocument(kept, MAX_JSON)).document, DOCUMENT);
});

test("a file that cannot be read is not the document", async () => {
  const unreadable = { size: 10, text: () => Promise.reject(new Error("gone")) };
  const chosen = [{ path: "gone.json", file: unreadable }, ...entries(["pack/datapack.json", DOC])];
  assert.equal((await findDocument(chosen, MAX_JSON)).entry.path, "pack/datapack.json");
});

test("parseDocument: an object with info and children, nothing else", () => {
  assert.deepEqual(parseDocument(DOC), DOCUMENT);
  assert.deepEqual(parseDocument('{"info": {}, "children": []}'), { info: {}, children: [] });
  assert.equal(parseDocument('{"info": {}}'), null);
  assert.equal(parseDocument('[{"info": {}, "children": []}]'), null);
  assert.equal(parseDocument("null"), null);
  assert.equal(parseDocument("{not json"), null);
  assert.equal(parseDocument(SENSOR), null);
});

test("readChosenDocument: parsed, too large, or not JSON", async () => {
  assert.deepEqual(await readChosenDocument(new Blob([DOC]), 1024, 1), DOCUMENT);
  assert.deepEqual(await problemsOf(readChosenDocument(new Blob(["x".repeat(1025)]), 1024, 1)),
                   ["document: is larger than 1 KB"]);
  const [problem] = await problemsOf(readChosenDocument(new Blob(["{not json"]), 1024, 1));
  assert.match(problem, /^document: is not valid JSON \(.+\)$/);
});

test("dataLinks: the data nodes' links, depth first, in document order", () => {
  const children = [
    { class: "data", link: "a.wav" },
    { class: "container", children: [{ class: "data", link: "sub/b.json" }, { class: "container", children: [] }] },
    { class: "text", text: "notes" },
    { class: "data", link: "c.mp4" },
  ];
  assert.deepEqual(dataLinks(children), ["a.wav", "sub/b.json", "c.mp4"]);
  assert.deepEqual(dataLinks(undefined), []);
});

test("another name stands for info.name, as the plain form does", async () => {
  const { applyName } = await import("../../static/datapack-document.js");
  const document = { info: { name: "MYO", author: "a" }, children: [] };
  assert.equal(applyName(document, "  MYO \t (2) "), true);
  assert.deepEqual(document.info, { name: "MYO (2)", author: "a" });
  for (const name of ["", "   ", null, undefined, 7]) {
    assert.equal(applyName(document, name), false);
    assert.equal(document.info.name, "MYO (2)");
  }
  for (const broken of [{ children: [] }, { info: [] }, { info: "x" }, null, []]) {
    assert.equal(applyName(broken, "New"), false);
  }
});

test("the datapack documents among chosen files are found by their content, as document_paths does", async () => {
  const files = new Map([
    ["datapack.json", new Blob([DOC])],
    ["sensors/emg.json", new Blob([SENSOR])],
    ["nested/other.JSON", new Blob([DOC])],
    ["notes.txt", new Blob([DOC])],
    ["broken.json", new Blob(["{not json"])],
    ["large.json", new Blob([DOC + " ".repeat(MAX_JSON)])],
  ]);
  const found = await documentPaths(files, MAX_JSON);
  assert.deepEqual([...found].sort(), ["datapack.json", "nested/other.JSON"]);
});
