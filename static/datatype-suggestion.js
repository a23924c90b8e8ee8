/*
 * Which datatype a data file probably holds, from its names, its media type and its number of
 * channels: the browser's copy of portal/rules/datatype_suggestion.py, held to the same cases
 * (tests/cases/datatype-suggestions.json). A suggestion only: the page shows it and the user confirms.
 * Pure: no DOM, importable by Node.
 */

export const VIDEO = "e44ab9c4-a1b5-4474-b806-ece64555ef2b";
export const AUDIO = "48e3b5d2-c34c-459c-9a2d-0756c20d80de";
export const EMG = "0746bb48-9b92-4cd3-8d9e-3e1de13269eb";
export const ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc";
export const GYROSCOPE = "35524338-dec5-40ca-a099-1fff42fb5460";
export const ORIENTATION = "d4445fc6-0af0-42e0-979e-74a62b70b2ed";

/** [datatype, its number of channels, the words of a file name that name it] */
export const NAMED = [
  [EMG, 8, ["emg", "electromyography"]],
  [ACCELEROMETER, 3, ["acc", "accel", "accelerometer", "accelerometers", "acceleration", "accelerations"]],
  [GYROSCOPE, 3, ["gyr", "gyro", "gyros", "gyroscope", "gyroscopes"]],
  [ORIENTATION, 3, ["ori", "orientation", "orientations", "euler", "rpy"]],
];
const VIDEO_EXTENSIONS = [".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".ogv", ".mpg", ".mpeg"];
const AUDIO_EXTENSIONS = [".wav", ".mp3", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".opus", ".aif", ".aiff"];
const UPLOADED = "repovizz:";
const MAX_ROWS = 5;  // rows of a file's start that must agree on their number of channels
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const FIRST_JSON_ROW = /^\[\s*\[([^[\]]*)\]/;

/** How many bytes of a file's start are read to count its channels (as HEAD_BYTES). */
export const HEAD_BYTES = 16 * 1024;

/** The words of a name, lower case: "myoEMG_2.csv" -> ["myo", "emg", "csv"]. */
export function nameWords(name) {
  const spaced = (typeof name === "string" ? name : "").replace(/([a-z])([A-Z])/g, "$1 $2");
  return spaced.toLowerCase().match(/[a-z]+/g) || [];
}

function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

function channelsText(count) {
  return count + " channel" + (count !== 1 ? "s" : "");
}

/**
 * The datatype these names (a file's name or path, a node's name), media type and channel count point
 * to, as {datatypeId, reason}, or null when they point nowhere or to several.
 */
export function suggestDatatype(names, mime, channels) {
  const base = (typeof mime === "string" ? mime : "").split(";")[0].trim().toLowerCase();
  // A path's folders say nothing, nor does an uploaded file's handle (repovizz:<id>).
  const leaves = names.filter((name) => typeof name === "string" && !name.startsWith(UPLOADED))
    .map((name) => name.split("/").pop());
  const extensions = leaves.map(extension);
  const known = channels === undefined ? null : channels;
  if (base.startsWith("video/")) return { datatypeId: VIDEO, reason: "it is a video file" };
  if (base.startsWith("audio/")) return { datatypeId: AUDIO, reason: "it is an audio file" };
  if (extensions.some((ext) => VIDEO_EXTENSIONS.includes(ext))) {
    return { datatypeId: VIDEO, reason: "its name ends like a video file's" };
  }
  if (extensions.some((ext) => AUDIO_EXTENSIONS.includes(ext))) {
    return { datatypeId: AUDIO, reason: "its name ends like an audio file's" };
  }
  const words = leaves.flatMap(nameWords);
  const named = [];
  NAMED.forEach(([datatype, count, said]) => {
    words.forEach((word) => { if (said.includes(word)) named.push([datatype, count, word]); });
  });
  if (new Set(named.map((item) => item[0])).size === 1) {
    const [datatype, count, word] = named[0];
    if (known === null) return { datatypeId: datatype, reason: 'the name says "' + word + '"' };
    if (known === count) {
      return { datatypeId: datatype, reason: 'the name says "' + word + '" and it has ' + channelsText(count) };
    }
  }
  if (known !== null) {
    const alike = NAMED.filter((item) => item[1] === known);
    if (alike.length === 1) return { datatypeId: alike[0][0], reason: "it has " + channelsText(known) };
  }
  return null;
}

function rowValues(line) {
  for (const separator of ["\t", ";", ","]) {
    if (line.includes(separator)) return line.split(separator).map((value) => value.trim());
  }
  return line.split(/\s+/);
}

/**
 * The number of channels of a numeric stream, from the start of its text: JSON rows
 * ([[0.9, -0.3, 0.1], …]) or lines of numbers separated by commas, tabs, semicolons or spaces, after
 * at most one header line, with any line end. null when the start holds no such rows or they disagree.
 * `complete` says `head` is the whole file (else its last line may be cut short).
 */
export function countChannels(head, complete) {
  const text = (typeof head === "string" ? head : "").replace(/^\uFEFF+/, "");
  if (text.trimStart().startsWith("[")) {
    const row = FIRST_JSON_ROW.exec(text.trimStart());
    const values = row ? row[1].split(",").map((value) => value.trim()) : [];
    return values.length && values.every((value) => NUMBER.test(value)) ? values.length : null;
  }
  let lines = text.split(/\r\n|\r|\n/);
  if (!complete) lines = lines.slice(0, -1);
  lines = lines.map((line) => line.trim()).filter((line) => line);
  const counts = [];
  for (let index = 0; index < lines.length && counts.length < MAX_ROWS; index += 1) {
    const values = rowValues(lines[index]);
    if (!values.every((value) => NUMBER.test(value))) {
      if (index === 0) continue;  // a header row
      return null;
    }
    counts.push(values.length);
  }
  return counts.length && new Set(counts).size === 1 ? counts[0] : null;
}
