// A .zip read in the page (static/zip-reader.js): the server's checks before anything is unpacked,
// then each file unpacked on demand, bounded by the size its directory gives.
import { test } from "node:test";
import assert from "node:assert/strict";

import { strToU8, zipSync } from "../../node_modules/fflate/esm/index.mjs";
import { readZip } from "../../static/zip-reader.js";
import { unsafePathReason } from "../../static/paths.js";

const LIMITS = {maxFiles: 10, maxTotalBytes: 50 * 1024 * 1024};
const asBlob = (bytes) => new Blob([bytes]);

/** Set the "encrypted" flag of every entry, in the local headers and the central directory. */
function encrypted(bytes) {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  for (let at = 0; at + 4 <= copy.length; at++) {
    const signature = view.getUint32(at, true);
    if (signature === 0x04034b50) view.setUint16(at + 6, view.getUint16(at + 6, true) | 1, true);
    if (signature === 0x02014b50) view.setUint16(at + 8, view.getUint16(at + 8, true) | 1, true);
  }
  return copy;
}

test("a folder's zip reads like the folder: paths, sizes, contents, stored or deflated", async () => {
  const zip = zipSync({
    "pack/datapack.json": [strToU8('{"info": {}, "children": []}'), {level: 0}],
    "pack/sensors/emg 2.json": strToU8("[[1, 2], [3, 4]]".repeat(1000)),
    "pack/": new Uint8Array(0),
    "pack/.DS_Store": strToU8("finder"),
    "__MACOSX/pack/._datapack.json": strToU8("resource fork"),
  });
  const read = await readZip(asBlob(zip), LIMITS);
  assert.deepEqual(read.entries.map((entry) => [entry.path, entry.file.size, entry.file.name]), [
    ["pack/datapack.json", 28, "datapack.json"],
    ["pack/sensors/emg 2.json", 16000, "emg 2.json"],
  ]);
  assert.equal(await read.entries[0].file.text(), '{"info": {}, "children": []}');
  assert.equal(await read.entries[1].file.text(), "[[1, 2], [3, 4]]".repeat(1000));
  assert.equal((await read.entries[1].file.blob()).size, 16000);
});

test("names without the UTF-8 flag are read as code page 437, as the portal reads them", async () => {
  const zip = zipSync({"cafX.csv": strToU8("1,2")});  // an ASCII name: no UTF-8 flag
  const named = zip.map((byte, at) => (byte === 0x58 && zip[at - 1] === 0x66 ? 0x82 : byte));  // X → 0x82, "é" in cp437
  const read = await readZip(asBlob(named), LIMITS);
  assert.equal(read.entries[0].path, "café.csv");
});

test("paths leaving the folder, links, encryption and bombs are refused before anything is unpacked", async () => {
  const bomb = new Uint8Array(4 * 1024 * 1024);  // zeros: deflated about 1000 to 1
  const zip = zipSync({
    "../up.csv": strToU8("1"),
    "/abs.csv": strToU8("1"),
    "link.csv": [strToU8("/etc/passwd"), {os: 3, attrs: 0o120777 << 16}],
    "bomb.bin": [bomb, {level: 9}],
  });
  const read = await readZip(asBlob(zip), LIMITS);
  assert.deepEqual(read.problems, [
    "archive entry '../up.csv': goes up a folder with '..'",
    "archive entry '/abs.csv': is an absolute path",
    "archive entry 'link.csv': is a symbolic link",
    "archive entry 'bomb.bin': is compressed more than 200:1 (a zip bomb?)",
  ]);
  const locked = await readZip(asBlob(encrypted(zipSync({"a.csv": strToU8("1,2")}))), LIMITS);
  assert.deepEqual(locked.problems, ["archive entry 'a.csv': is encrypted; send a .zip without a password"]);
});

test("too many files, or too much once unpacked, is said from the directory alone", async () => {
  const files = {};
  for (let i = 0; i < 13; i++) files[`f${i}.csv`] = [new Uint8Array(1000), {level: 0}];
  const read = await readZip(asBlob(zipSync(files)), {maxFiles: 10, maxTotalBytes: 5000});
  assert.deepEqual(read.problems, [
    "archive: holds 13 files; the limit is 10 per datapack, plus its document",
    "archive: would unpack to 13.0 KB; the limit is 5.0 KB",
  ]);
});

test("what is no zip, and an entry whose bytes disagree with its directory, are said so", async () => {
  assert.deepEqual(await readZip(asBlob(strToU8("not a zip at all")), LIMITS),
                   {problems: ["archive: is not a readable .zip file"]});
  const zip = zipSync({"a.csv": strToU8("1,2,3,4,5,6,7,8,9".repeat(50))});
  const lying = zip.slice();
  const view = new DataView(lying.buffer);
  for (let at = 0; at + 4 <= lying.length; at++) {  // the directory claims 10 bytes: the inflate runs past them
    if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, 10, true);
  }
  const read = await readZip(asBlob(lying), LIMITS);
  await assert.rejects(read.entries[0].file.blob(), /archive entry 'a.csv' is damaged/);
});

test("a zip compressed in a way the page cannot read is left to the portal", async () => {
  const zip = zipSync({"a.csv": [strToU8("1,2"), {level: 0}]});
  const patched = zip.slice();
  const view = new DataView(patched.buffer);
  for (let at = 0; at + 4 <= patched.length; at++) {
    if (view.getUint32(at, true) === 0x02014b50) view.setUint16(at + 10, 12, true);  // bzip2
  }
  assert.deepEqual(await readZip(asBlob(patched), LIMITS), {unreadable: true});
});

test("the unsafe-path rule speaks as the portal's", () => {
  assert.equal(unsafePathReason("a/b.csv"), null);
  assert.equal(unsafePathReason(""), "is empty");
  assert.equal(unsafePathReason("a\u0001b"), "contains a control character (U+0001)");
  assert.equal(unsafePathReason("C:/x.csv"), "is an absolute path");
  assert.equal(unsafePathReason("a\\..\\b"), "goes up a folder with '..'");
  assert.equal(unsafePathReason("x".repeat(1025)), "is longer than 1024 characters");
});
