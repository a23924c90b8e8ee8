/*
 * A .zip read in the browser, so that its files go through the progress path like a folder's.
 * The central directory is read first and judged as portal/rules/zip_archive.py judges it (entry count and
 * unpacked size before anything is extracted, paths leaving the folder, links, encryption, the
 * compression ratio); each file is unpacked only when it is sent (fflate's streaming inflate, the
 * output bounded by the size the directory gave). Needs Blob only: Node runs it too.
 */
import { Inflate } from "./vendor/fflate.js";
import { isIgnored, normalizePath, unsafePathReason } from "./paths.js";
import { humanSize } from "./sizes.js";

export const MAX_COMPRESSION_RATIO = 200;
const STORED = 0;
const DEFLATED = 8;
const CHUNK = 1024 * 1024;
const HAND_OVER = 16 * 1024 * 1024;
const CP437_HIGH = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

/** The bytes [start, end) of a Blob as a DataView. */
async function bytesOf(blob, start, end) {
  return new DataView(await blob.slice(start, end).arrayBuffer());
}

/** A name as zip tools write it: UTF-8 when flagged so, else code page 437 (as Python's zipfile reads it). */
function decodeName(bytes, utf8) {
  if (utf8) return new TextDecoder("utf-8").decode(bytes);
  let name = "";
  for (const byte of bytes) name += byte < 128 ? String.fromCharCode(byte) : CP437_HIGH[byte - 128];
  return name;
}

/** Where the central directory is and how many entries it has (ZIP64 too), or null when it is no zip. */
async function findDirectory(blob) {
  const tailStart = Math.max(0, blob.size - (22 + 65535));
  const tail = await bytesOf(blob, tailStart, blob.size);
  for (let at = tail.byteLength - 22; at >= 0; at--) {
    if (tail.getUint32(at, true) !== 0x06054b50) continue;
    let count = tail.getUint16(at + 10, true);
    let size = tail.getUint32(at + 12, true);
    let offset = tail.getUint32(at + 16, true);
    const locator = at - 20;
    if (locator >= 0 && tail.getUint32(locator, true) === 0x07064b50) {
      const where = Number(tail.getBigUint64(locator + 8, true));
      const zip64 = await bytesOf(blob, where, where + 56);
      if (zip64.byteLength < 56 || zip64.getUint32(0, true) !== 0x06064b50) return null;
      count = Number(zip64.getBigUint64(32, true));
      size = Number(zip64.getBigUint64(40, true));
      offset = Number(zip64.getBigUint64(48, true));
    }
    if (offset + size > blob.size) return null;
    return {count, size, offset};
  }
  return null;
}

/** The entries of the central directory: path, sizes, method, flags, whether it is a link or a folder. */
async function readDirectory(blob, directory) {
  const view = await bytesOf(blob, directory.offset, directory.offset + directory.size);
  const entries = [];
  let at = 0;
  for (let index = 0; index < directory.count; index++) {
    if (at + 46 > view.byteLength || view.getUint32(at, true) !== 0x02014b50) return null;
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const entry = {
      flags,
      method: view.getUint16(at + 10, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      external: view.getUint32(at + 38, true),
      offset: view.getUint32(at + 42, true),
    };
    if (at + 46 + nameLength + extraLength > view.byteLength) return null;
    entry.name = decodeName(new Uint8Array(view.buffer, view.byteOffset + at + 46, nameLength), flags & 0x800);
    readZip64Extra(view, at + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Sizes and offset too large for 32 bits are in the ZIP64 extra field (id 1), in this order. */
function readZip64Extra(view, start, length, entry) {
  let at = start;
  while (at + 4 <= start + length) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === 1) {
      let field = at + 4;
      for (const key of ["size", "compressedSize", "offset"]) {
        if (entry[key] !== 0xffffffff || field + 8 > at + 4 + size) continue;
        entry[key] = Number(view.getBigUint64(field, true));
        field += 8;
      }
    }
    at += 4 + size;
  }
}

const isFolder = (entry) => entry.name.endsWith("/");
const isSymlink = (entry) => ((entry.external >>> 16) & 0o170000) === 0o120000;

/** The problems of an entry, as portal/rules/zip_archive.py words them (an empty list when it is fine). */
function entryProblems(entry) {
  const name = "archive entry '" + entry.name + "'";
  const problems = [];
  const reason = unsafePathReason(entry.name);
  if (reason) problems.push(name + ": " + reason);
  if (isSymlink(entry)) problems.push(name + ": is a symbolic link");
  if (entry.size > 1024 * 1024 && entry.size > MAX_COMPRESSION_RATIO * Math.max(entry.compressedSize, 1)) {
    problems.push(name + ": is compressed more than " + MAX_COMPRESSION_RATIO + ":1 (a zip bomb?)");
  }
  if (entry.flags & 0x1) problems.push(name + ": is encrypted; send a .zip without a password");
  return problems;
}

/**
 * The files of a .zip (a Blob) as [{path, file}] entries like a folder's, each `file` unpacked only
 * when asked (ZipEntryFile); or {problems} when it breaks the rules; or {unreadable: true} when it
 * is compressed in a way only the portal reads (bzip2, LZMA): the plain form sends it then.
 *   limits: {maxFiles, maxTotalBytes}
 */
export async function readZip(blob, limits) {
  const directory = await findDirectory(blob).catch(() => null);
  const listed = directory && await readDirectory(blob, directory).catch(() => null);
  if (!listed) return {problems: ["archive: is not a readable .zip file"]};
  const entries = listed.filter((entry) => !isFolder(entry) && !isIgnored(entry.name));
  const problems = [];
  if (entries.length > limits.maxFiles + 1) {
    problems.push("archive: holds " + entries.length + " files; the limit is " + limits.maxFiles +
      " per datapack, plus its document");
  }
  const total = entries.reduce((sum, entry) => sum + entry.size, 0);
  if (total > limits.maxTotalBytes) {
    problems.push("archive: would unpack to " + humanSize(total) + "; the limit is " + humanSize(limits.maxTotalBytes));
  }
  for (const entry of entries) problems.push(...entryProblems(entry));
  if (problems.length) return {problems};
  if (entries.some((entry) => entry.method !== STORED && entry.method !== DEFLATED)) return {unreadable: true};
  return {entries: entries.map((entry) => {
    const path = normalizePath(entry.name);
    return {path, file: new ZipEntryFile(blob, entry, path)};
  })};
}

/** A file inside a .zip, shaped like a File for the upload: name, size, type, blob(), text(). */
export class ZipEntryFile {
  constructor(archive, entry, path) {
    this.archive = archive;
    this.entry = entry;
    this.path = path;
    this.name = path.split("/").pop();
    this.size = entry.size;
    this.type = "";  // the portal tells the type from the link's extension
  }

  async text() {
    return (await this.blob()).text();
  }

  /** The unpacked bytes; rejects with an Error saying the entry is damaged when they disagree with the directory. */
  async blob() {
    const entry = this.entry;
    const damaged = () => new Error("archive entry '" + entry.name + "' is damaged");
    const header = await bytesOf(this.archive, entry.offset, entry.offset + 30);
    if (header.byteLength < 30 || header.getUint32(0, true) !== 0x04034b50) throw damaged();
    const start = entry.offset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
    const end = start + entry.compressedSize;
    if (end > this.archive.size) throw damaged();
    if (entry.method === STORED) {
      if (entry.compressedSize !== entry.size) throw damaged();
      return this.archive.slice(start, end);
    }
    return inflated(this.archive, start, end, entry.size, damaged);
  }
}

/**
 * Inflate [start, end) of the archive a chunk at a time; never more than `size` bytes come out.
 * What came out is handed to a Blob every few MB (the browser keeps large Blobs on disk), so the
 * page holds little of a large file at any time.
 */
async function inflated(archive, start, end, size, damaged) {
  let unpacked = new Blob([]);
  let parts = [];
  let held = 0;
  let produced = 0;
  let finished = false;
  const inflate = new Inflate((data, final) => {
    produced += data.length;
    if (produced > size) throw damaged();
    parts.push(data);
    held += data.length;
    if (final) finished = true;
  });
  try {
    for (let at = start; at < end; at += CHUNK) {
      const chunk = new Uint8Array(await archive.slice(at, Math.min(end, at + CHUNK)).arrayBuffer());
      inflate.push(chunk, at + CHUNK >= end);
      if (held >= HAND_OVER) {
        unpacked = new Blob([unpacked, ...parts]);
        parts = [];
        held = 0;
      }
    }
  } catch (error) {
    throw damaged();
  }
  if ((!finished && size > 0) || produced !== size) throw damaged();
  return new Blob([unpacked, ...parts]);
}
