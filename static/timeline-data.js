/*
 * The numbers behind the timeline: samples kept as they arrive (growing Float32Arrays), a pyramid of
 * per-block minima and maxima so that any visible range is downsampled in time proportional to the
 * plot's width (not to the stream's length), the view's zoom and pan, a stream's timing (its
 * datatype's rate, its own time column, stretched over the video, or by sample index), axis labels
 * and the readout at the cursor. Pure: no DOM, importable by Node.
 */

/** Each level of the pyramid sums up FANOUT blocks of the level below (level 1: FANOUT samples). */
var FANOUT = 16;
var LEVELS = 5;  // blocks of 16, 256, 4096, 65536 and 1048576 samples

/** Samples of one stream: channels of numbers growing as rows arrive, with their min/max pyramid. */
export function SampleStore(channelCount) {
  this.channels = [];
  this.length = 0;
  this.capacity = 0;
  this.levels = [];  // levels[k] = {size, count, min: [Float32Array per channel], max: [...]}
  for (var c = 0; c < channelCount; c++) this.channels.push(new Float32Array(0));
  var size = 1;
  for (var k = 0; k < LEVELS; k++) {
    size *= FANOUT;
    this.levels.push({ size: size, count: 0, min: this.channels.map(function () { return new Float32Array(0); }),
                       max: this.channels.map(function () { return new Float32Array(0); }) });
  }
}

function grown(array, capacity) {
  var bigger = new Float32Array(capacity);
  bigger.set(array);
  return bigger;
}

/** Bytes held: the samples (with room to grow) and the pyramid. */
SampleStore.prototype.bytes = function () {
  var total = this.capacity * 4 * this.channels.length;
  this.levels.forEach(function (level) {
    level.min.forEach(function (array) { total += 2 * array.byteLength; });
  });
  return total;
};

/** Append `rows` samples: one Float32Array (or array) per channel. */
SampleStore.prototype.append = function (columns, rows) {
  var needed = this.length + rows;
  if (needed > this.capacity) {
    var capacity = Math.max(needed, this.capacity * 2, 4096);
    this.channels = this.channels.map(function (channel) { return grown(channel, capacity); });
    this.capacity = capacity;
  }
  for (var c = 0; c < this.channels.length; c++) this.channels[c].set(columns[c].length > rows ? columns[c].slice(0, rows) : columns[c], this.length);
  this.length = needed;
  this.extendPyramid();
};

/** Sum up every block completed since the last call, level by level. */
SampleStore.prototype.extendPyramid = function () {
  var below = null;
  for (var k = 0; k < this.levels.length; k++) {
    var level = this.levels[k];
    var complete = Math.floor(this.length / level.size);
    if (complete <= level.count) break;
    if (level.min[0] === undefined || level.min[0].length < complete) {
      var capacity = Math.max(complete, Math.ceil(this.capacity / level.size));
      level.min = level.min.map(function (array) { return grown(array, capacity); });
      level.max = level.max.map(function (array) { return grown(array, capacity); });
    }
    for (var c = 0; c < this.channels.length; c++) {
      var mins = level.min[c];
      var maxs = level.max[c];
      for (var b = level.count; b < complete; b++) {
        var low = Infinity;
        var high = -Infinity;
        var i;
        if (!below) {
          var data = this.channels[c];
          for (i = b * FANOUT; i < (b + 1) * FANOUT; i++) {
            var value = data[i];
            if (value < low) low = value;
            if (value > high) high = value;
          }
        } else {
          var lowBelow = below.min[c];
          var highBelow = below.max[c];
          for (i = b * FANOUT; i < (b + 1) * FANOUT; i++) {
            if (lowBelow[i] < low) low = lowBelow[i];
            if (highBelow[i] > high) high = highBelow[i];
          }
        }
        mins[b] = low;   // Infinity / -Infinity: a block of gaps only
        maxs[b] = high;
      }
    }
    level.count = complete;
    below = level;
  }
};

/** [min, max] of one channel over samples [from, to), using the biggest whole blocks that fit. */
SampleStore.prototype.extremes = function (channel, from, to) {
  var data = this.channels[channel];
  var low = Infinity;
  var high = -Infinity;
  var i = from;
  if (to - from < FANOUT * 2) {  // a few samples: no block can help
    for (; i < to; i++) {
      if (data[i] < low) low = data[i];
      if (data[i] > high) high = data[i];
    }
    return [low, high];
  }
  while (i < to) {
    var used = false;
    for (var k = this.levels.length - 1; k >= 0; k--) {
      var level = this.levels[k];
      var size = level.size;
      if (i % size === 0 && i + size <= to && i / size < level.count) {
        var block = i / size;
        if (level.min[channel][block] < low) low = level.min[channel][block];
        if (level.max[channel][block] > high) high = level.max[channel][block];
        i += size;
        used = true;
        break;
      }
    }
    if (!used) {
      var value = data[i];
      if (value < low) low = value;
      if (value > high) high = value;
      i += 1;
    }
  }
  return [low, high];
};

/** [min, max] of one channel over whole blocks [fromBlock, toBlock) of one level of the pyramid. */
SampleStore.prototype.blockExtremes = function (level, channel, fromBlock, toBlock) {
  var mins = level.min[channel];
  var maxs = level.max[channel];
  var low = Infinity;
  var high = -Infinity;
  for (var b = fromBlock; b < toBlock; b++) {
    if (mins[b] < low) low = mins[b];
    if (maxs[b] > high) high = maxs[b];
  }
  return [low, high];
};

/** The coarsest level of the pyramid whose blocks are no longer than `samples`, or null. */
SampleStore.prototype.levelFor = function (samples) {
  for (var k = this.levels.length - 1; k >= 0; k--) {
    if (this.levels[k].size <= samples && this.levels[k].count > 0) return this.levels[k];
  }
  return null;
};

/**
 * What a plot `columns` pixels wide draws of the samples between times t0 and t1 (at `rate` samples per
 * second): every sample when they are few enough (two per pixel or fewer), else per pixel column its
 * minimum and its maximum, so that peaks survive. uPlot's data: [times, channel 1, …] (null for gaps),
 * with the lowest and highest value drawn ({low, high}, null when nothing is).
 */
export function visibleData(store, rate, t0, t1, columns) {
  var count = store.length;
  var xs = [];
  var ys = store.channels.map(function () { return []; });
  var low = Infinity;
  var high = -Infinity;
  var first = Math.max(0, Math.floor(t0 * rate) - 1);
  var last = Math.min(count, Math.ceil(t1 * rate) + 2);  // exclusive
  var c;
  if (last <= first) return { data: [xs].concat(ys), low: null, high: null, every: true };
  var every = last - first <= 2 * columns;
  if (every) {
    for (var i = first; i < last; i++) {
      xs.push(i / rate);
      for (c = 0; c < ys.length; c++) {
        var value = store.channels[c][i];
        if (value === value) {
          ys[c].push(value);
          if (value < low) low = value;
          if (value > high) high = value;
        } else {
          ys[c].push(null);
        }
      }
    }
  } else {
    var width = Math.max(1, Math.round(columns));
    var step = (last - first) / width;
    // Inner column edges snapped to the blocks of one level: a column's extremes are then those of
    // fewer than FANOUT whole blocks (the edges move by less than a column; no sample is skipped).
    var level = store.levelFor(step);
    var size = level ? level.size : 1;
    var blocked = level ? level.count * size : 0;
    for (var column = 0; column < width; column++) {
      var from = column === 0 ? first : Math.round((first + Math.floor(column * step)) / size) * size;
      var to = column === width - 1 ? last : Math.round((first + Math.floor((column + 1) * step)) / size) * size;
      if (to <= from) continue;
      var whole = level && from % size === 0 && to % size === 0 && to <= blocked;
      xs.push(from / rate, (from + to) / 2 / rate);
      for (c = 0; c < ys.length; c++) {
        var pair = whole ? store.blockExtremes(level, c, from / size, to / size) : store.extremes(c, from, to);
        if (pair[0] === Infinity) {
          ys[c].push(null, null);
          continue;
        }
        ys[c].push(pair[0], pair[1]);
        if (pair[0] < low) low = pair[0];
        if (pair[1] > high) high = pair[1];
      }
    }
  }
  return { data: [xs].concat(ys), low: low === Infinity ? null : low, high: high === -Infinity ? null : high, every: every };
}

/**
 * How a stream is placed in time: {rate, how} where how is "datatype" (its datatype's rate), "time-column"
 * (its own column of times), "stretched" (rate unknown: spread over the media's duration) or "index"
 * (rate unknown, no media: one sample per unit of the axis).
 */
export function streamTiming(datatypeRate, rows, times, mediaDuration) {
  if (datatypeRate > 0) return { rate: datatypeRate, how: "datatype" };
  if (times && times.length > 1) {
    var span = times[times.length - 1] - times[0];
    if (span > 0) return { rate: (times.length - 1) / span, how: "time-column" };
  }
  if (mediaDuration > 0 && rows > 1) return { rate: (rows - 1) / mediaDuration, how: "stretched" };
  return { rate: 1, how: "index" };
}

/** A view [t0, t1] zoomed by `factor` (below 1: in) around time `center`, kept within [0, end]. */
export function zoomed(view, factor, center, end, smallest) {
  var span = Math.min(end, Math.max(smallest || 1e-3, (view[1] - view[0]) * factor));
  var at = Math.min(Math.max(center, view[0]), view[1]);
  var share = view[1] > view[0] ? (at - view[0]) / (view[1] - view[0]) : 0.5;
  return clamped([at - share * span, at - share * span + span], end);
}

/** A view moved by `delta` seconds, kept within [0, end] with its span unchanged. */
export function panned(view, delta, end) {
  return clamped([view[0] + delta, view[1] + delta], end);
}

function clamped(view, end) {
  var span = Math.min(view[1] - view[0], end);
  var start = Math.min(Math.max(0, view[0]), Math.max(0, end - span));
  return [start, start + span];
}

/** A view that shows time `t`: unchanged when it does already, else moved so `t` is near its left edge. */
export function following(view, t, end) {
  if (t >= view[0] && t <= view[1]) return view;
  var span = view[1] - view[0];
  return clamped([t - 0.1 * span, t + 0.9 * span], end);
}

/** Three significant digits, exponent notation for the very large or small. */
export function numberLabel(value) {
  if (value === null || value === undefined || value !== value) return "–";
  var size = Math.abs(value);
  return size !== 0 && (size >= 1e5 || size < 1e-3) ? value.toExponential(2) : String(Number(value.toPrecision(3)));
}

/**
 * An axis tick in seconds, as precise as the step between ticks needs: "12 s", "12.5 s", "1:05" past a
 * minute; with `clock`, every whole-second tick as minutes:seconds ("0:45", "1:05"), so one axis reads alike.
 */
export function secondsLabel(seconds, step, clock) {
  var decimals = 0;  // as many as the step has (2.5 s apart: one)
  while (step > 0 && decimals < 6 && Math.abs(step * Math.pow(10, decimals) - Math.round(step * Math.pow(10, decimals))) > 1e-6) {
    decimals += 1;
  }
  if ((seconds >= 60 || clock) && (!step || step % 1 === 0)) {
    var minutes = Math.floor(seconds / 60);
    var rest = Math.round(seconds - 60 * minutes);
    if (rest === 60) { minutes += 1; rest = 0; }
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }
  return seconds.toFixed(decimals) + " s";
}

/** A time for people: "12.35 s", "1 min 5.2 s". */
export function timeText(seconds) {
  if (!(seconds >= 0)) return "0 s";
  if (seconds < 60) return numberLabel(Math.round(seconds * 1000) / 1000) + " s";
  var minutes = Math.floor(seconds / 60);
  return minutes + " min " + numberLabel(Math.round((seconds - 60 * minutes) * 10) / 10) + " s";
}

/** The sample shown at time `t`: the one nearest, or -1 past either end. */
export function sampleAt(t, rate, length) {
  var index = Math.round(t * rate);
  return index >= 0 && index < length ? index : -1;
}

/** The events under time `t` (onset ≤ t ≤ offset), or the nearest one before it within `slack` seconds. */
export function eventsAt(events, t, slack) {
  var under = events.filter(function (event) { return event.onset <= t && t <= event.offset; });
  if (under.length) return under;
  var before = events.filter(function (event) { return event.offset <= t && t - event.offset <= (slack || 0); });
  return before.slice(-1);
}
