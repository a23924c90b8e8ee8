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

test("a file larger than what the page holds at once comes out whole", async () => {
  const data = new Uint8Array(17 * 1024 * 1024);  // more than is handed over at once; random: no bomb
  for (let at = 0; at < data.length; at += 65536) crypto.getRandomValues(data.subarray(at, at + 65536));
  data.fill(7, 0, 1024 * 1024);  // a stretch that deflates, so the stream is not only stored blocks
  const read = await readZip(asBlob(zipSync({"big.bin": [data, {level: 1}]})), LIMITS);
  const out = new Uint8Array(await (await read.entries[0].file.blob()).arrayBuffer());
  assert.equal(out.length, data.length);
  assert.ok(Buffer.from(out).equals(Buffer.from(data)));
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

/** A zip written the ZIP64 way (sizes, offset and counts in the 64-bit records), as tools write multi-GB ones. */
function zip64(name, data) {
  const nameBytes = strToU8(name);
  const bytes = [];
  const push = (size, write) => {
    const view = new DataView(new ArrayBuffer(size));
    write(view);
    bytes.push(new Uint8Array(view.buffer));
  };
  const ALL = 0xffffffff;
  push(30, (v) => {
    v.setUint32(0, 0x04034b50, true); v.setUint16(4, 45, true); v.setUint32(18, ALL, true);
    v.setUint32(22, ALL, true); v.setUint16(26, nameBytes.length, true); v.setUint16(28, 20, true);
  });
  bytes.push(nameBytes);
  push(20, (v) => {
    v.setUint16(0, 1, true); v.setUint16(2, 16, true);
    v.setBigUint64(4, BigInt(data.length), true); v.setBigUint64(12, BigInt(data.length), true);
  });
  bytes.push(data);
  const directoryAt = bytes.reduce((sum, part) => sum + part.length, 0);
  push(46, (v) => {
    v.setUint32(0, 0x02014b50, true); v.setUint16(4, 45, true); v.setUint16(6, 45, true);
    v.setUint32(20, ALL, true); v.setUint32(24, ALL, true); v.setUint16(28, nameBytes.length, true);
    v.setUint16(30, 28, true); v.setUint32(42, ALL, true);
  });
  bytes.push(nameBytes);
  push(28, (v) => {
    v.setUint16(0, 1, true); v.setUint16(2, 24, true); v.setBigUint64(4, BigInt(data.length), true);
    v.setBigUint64(12, BigInt(data.length), true); v.setBigUint64(20, 0n, true);
  });
  const recordAt = bytes.reduce((sum, part) => sum + part.length, 0);
  const directorySize = recordAt - directoryAt;
  push(56, (v) => {
    v.setUint32(0, 0x06064b50, true); v.setBigUint64(4, 44n, true); v.setUint16(12, 45, true); v.setUint16(14, 45, true);
    v.setBigUint64(24, 1n, true); v.setBigUint64(32, 1n, true);
    v.setBigUint64(40, BigInt(directorySize), true); v.setBigUint64(48, BigInt(directoryAt), true);
  });
  push(20, (v) => { v.setUint32(0, 0x07064b50, true); v.setBigUint64(8, BigInt(recordAt), true); v.setUint32(16, 1, true); });
  push(22, (v) => {
    v.setUint32(0, 0x06054b50, true); v.setUint16(8, 0xffff, true); v.setUint16(10, 0xffff, true);
    v.setUint32(12, ALL, true); v.setUint32(16, ALL, true);
  });
  return new Blob(bytes);
}

test("a ZIP64 archive is read from its 64-bit records", async () => {
  const read = await readZip(zip64("pack/big.bin", strToU8("stored bytes")), LIMITS);
  assert.deepEqual(read.entries.map((entry) => [entry.path, entry.file.size]), [["pack/big.bin", 12]]);
  assert.equal(await read.entries[0].file.text(), "stored bytes");
});

test("the unsafe-path rule speaks as the portal's", () => {
  assert.equal(unsafePathReason("a/b.csv"), null);
  assert.equal(unsafePathReason(""), "is empty");
  assert.equal(unsafePathReason("a\u0001b"), "contains a control character (U+0001)");
  assert.equal(unsafePathReason("C:/x.csv"), "is an absolute path");
  assert.equal(unsafePathReason("a\\..\\b"), "goes up a folder with '..'");
  assert.equal(unsafePathReason("x".repeat(1025)), "is longer than 1024 characters");
});
