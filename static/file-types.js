/*
 * What a file's type or name says about how to show it: the preview a local file gets and whether
 * a chart reads a text as JSON or CSV. Pure: no DOM, importable by Node.
 */

const TABLE_TYPES = /json|csv|tab-separated/;

/** The preview of a local File ({type, name}): "audio", "video", "image", "chart" or "" (none); `given` wins. */
export function previewKind(file, given) {
  if (given) return given;
  const type = (file.type || "").toLowerCase();
  const name = (file.name || "").toLowerCase();
  if (type.startsWith("audio/")) return "audio";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("image/") && type !== "image/svg+xml") return "image";
  if (TABLE_TYPES.test(type) || /\.(json|csv|tsv)$/.test(name)) return "chart";
  return "";
}

/** How a chart reads a local File: "json" for a JSON type or a .json name, else "" (guessed from the text). */
export function localChartHint(file) {
  return /json/.test(file.type || "") || /\.json$/i.test(file.name || "") ? "json" : "";
}

/** How a chart reads a fetched file, from its data-chart-type or Content-Type: "json", "csv" or "". */
export function chartHint(type) {
  const given = (type || "").toLowerCase();
  if (given.includes("json")) return "json";
  if (given.includes("csv") || given.includes("tab-separated")) return "csv";
  return "";
}

/**
 * Whether a file of this type may be a table of numbers worth a look, its content deciding (as the
 * portal's `may_hold_numbers`): no type, an unknown one, any text, JSON or CSV.
 */
export function mayHoldNumbersType(type) {
  const base = (type || "").split(";")[0].trim().toLowerCase();
  return !base || base === "application/octet-stream" || base.startsWith("text/") || TABLE_TYPES.test(base);
}
