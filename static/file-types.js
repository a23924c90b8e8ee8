/*
 * What a file's type or name says about how to show it: the preview a local file gets and whether
 * a chart reads a text as JSON or CSV. Pure: no DOM, importable by Node.
 */

/** The preview of a local File ({type, name}): "audio", "video", "image", "chart" or "" (none); `given` wins. */
export function previewKind(file, given) {
  if (given) return given;
  var type = (file.type || "").toLowerCase();
  var name = (file.name || "").toLowerCase();
  if (type.indexOf("audio/") === 0) return "audio";
  if (type.indexOf("video/") === 0) return "video";
  if (type.indexOf("image/") === 0 && type !== "image/svg+xml") return "image";
  if (/json|csv|tab-separated/.test(type) || /\.(json|csv|tsv)$/.test(name)) return "chart";
  return "";
}

/** How a chart reads a local File: "json" for a JSON type or a .json name, else "" (guessed from the text). */
export function localChartHint(file) {
  return /json/.test(file.type || "") || /\.json$/i.test(file.name || "") ? "json" : "";
}

/** How a chart reads a fetched file, from its data-chart-type or Content-Type: "json", "csv" or "". */
export function chartHint(type) {
  var given = (type || "").toLowerCase();
  if (given.indexOf("json") >= 0) return "json";
  if (given.indexOf("csv") >= 0 || given.indexOf("tab-separated") >= 0) return "csv";
  return "";
}

/**
 * Whether a file of this type may be a table of numbers worth a look, its content deciding (as
 * may_hold_numbers in portal/rules/media_types.py): no type, an unknown one, any text, JSON or CSV.
 */
export function mayHoldNumbersType(type) {
  var base = (type || "").split(";")[0].trim().toLowerCase();
  return !base || base === "application/octet-stream" || base.indexOf("text/") === 0 ||
    /json|csv|tab-separated/.test(base);
}
