/*
 * Sizes, durations and percentages as the pages write them. Pure: no DOM, importable by Node.
 */

const UNITS = ["bytes", "KB", "MB", "GB"];

/**
 * Python's f"{value:.{digits}f}" for digits 0 or 1: like toFixed, except that an exact tie
 * (1.25 → "1.2", 2.5 → "2") goes to the even digit, as Python rounds, instead of up.
 */
function fixed(value, digits) {
  const scaled = value * (digits ? 10 : 1);
  // A tie is a multiple of 1/2 (digits 0) or of 1/20 (digits 1); only multiples of 1/4 are exact in binary.
  const tie = Number.isInteger(value * (digits ? 4 : 2)) && Math.abs(scaled % 1) === 0.5;
  if (!tie) return value.toFixed(digits);
  const even = Math.floor(scaled) % 2 === 0 ? Math.floor(scaled) : Math.ceil(scaled);
  return (even / (digits ? 10 : 1)).toFixed(digits);
}

/** A size as the server writes it (the portal's `human_size`: decimal units, 1.5 MB). */
export function humanSize(size) {
  let value = size;
  for (const unit of UNITS) {
    if (value < 1000 || unit === "GB") {
      return unit === "bytes" ? fixed(value, 0) + " bytes" : fixed(value, 1) + " " + unit;
    }
    value /= 1000;
  }
  return size + " bytes";
}

/** "45 s", "3 min 20 s", "2 h 5 min"; "" when there is no telling. */
export function humanDuration(seconds) {
  if (!isFinite(seconds)) return "";
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return whole + " s";
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return minutes + " min " + (whole % 60) + " s";
  return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
}

/** Whole percent done, rounded down (100 when there is nothing to do). */
export function percent(done, total) {
  return total > 0 ? Math.floor((100 * done) / total) : 100;
}
