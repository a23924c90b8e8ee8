/*
 * The timeline of a datapack (templates/timeline.html): every <figure class="track"> on one time axis
 * in seconds, drawn with uPlot. Videos and audio play with their own controls; audio is also drawn as
 * its waveform (decoded here); sensor streams are fetched and read in a Web Worker (stream-worker.js)
 * and drawn as their rows arrive, one line per channel (in lanes of their own past four channels);
 * events of sparse datatypes are marked spans.
 *
 * One view [t0, t1] and one cursor are shared by every track: playing or seeking a player moves the
 * cursor; clicking a track seeks, dragging across it zooms to that range, dragging the cursor line
 * scrubs; Ctrl + wheel (a pinch) zooms, Shift + wheel pans; the toolbar's buttons do the same; a
 * focused track is a slider: arrows step, + and - zoom, Home/End, space plays and pauses. Each redraw
 * downsamples the visible range again (timeline-data.js), so zooming in shows every sample.
 *
 * For tests and benchmarks, each figure says what it shows: data-state (loading, drawn, failed,
 * left-out), data-view ("t0 t1" of its own x scale), data-cursor, data-timing, data-rows, and
 * data-draw-ms (its last redraw).
 */
import uPlot from "./vendor/uplot/uPlot.esm.js";
import { readEvents } from "./stream-readers.js";
import { SampleStore, eventsAt, following, numberLabel, panned, sampleAt, secondsLabel, streamTiming, timeText,
         visibleData, zoomed } from "./timeline-data.js";

// Keep in step with .series-N in portal.css (the channel list's colours).
var COLORS = ["#0b5cad", "#b42318", "#1a7f37", "#9a6700", "#6e40c9", "#0a7c86", "#c2410c", "#475467",
              "#be185d", "#4d7c0f", "#1d4ed8", "#7c2d12"];
var STREAM_LIMIT = 512 * 1000 * 1000;  // bytes: a bigger file is offered as a download only
var AUDIO_LIMIT = 256 * 1000 * 1000;
var EVENTS_LIMIT = 16 * 1000 * 1000;
var LANES_FROM = 5;  // this many channels or more: one lane each, so that 8 EMG channels are told apart
var AXIS = "#5b6670";
// Seconds between two ticks of the time axis: round numbers of seconds, then of minutes and hours.
var TIME_STEPS = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120,
                  300, 600, 900, 1800, 3600, 7200, 18000, 36000, 86400];
var Y_AXIS_SIZE = 72;  // px: the same on every track, so that their time axes line up
var LABEL_SIZE = 16;  // px: room for the units beside the values, kept on every track alike

var root = document.getElementById("timeline");
var timeline = {
  tracks: [],
  media: [],
  view: [0, 1],
  end: 1,
  cursor: 0,
  zoomedByUser: false,
  syncing: false,
  frame: 0
};

function element(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function now() {
  return performance.now();
}

/* --- The shared view and cursor ---------------------------------------------------------------- */

function mediaDuration() {
  var longest = 0;
  timeline.media.forEach(function (media) {
    if (isFinite(media.duration) && media.duration > longest) longest = media.duration;
  });
  return longest || null;
}

/**
 * The axis's end (the longest track) and the view within it. When they changed, every track is drawn
 * again for the new view: at once, or on the next frame when `nextFrame` is exactly true (rows arriving).
 */
function refreshBounds(nextFrame) {
  var end = 0;
  timeline.tracks.forEach(function (track) {
    var duration = track.duration();
    if (duration > end) end = duration;
  });
  end = end || 1;
  var was = timeline.end;
  var view = timeline.view;
  timeline.end = end;
  if (!timeline.zoomedByUser || view[1] > end) view = [0, end];
  var changed = end !== was || view[0] !== timeline.view[0] || view[1] !== timeline.view[1];
  if (changed && nextFrame === true) {
    timeline.view = view;
    showViewText();
    viewMoved = true;
    askFrame();
  } else if (changed) {
    setView(view, true);
  }
  return changed;
}

/* Rows arriving from several workers at once are drawn once per frame, not once per message. */
var dirty = new Set();
var frameAsked = false;
var viewMoved = false;  // the view changed without a redraw of every track: the next frame does it

function drawSoon(track) {
  dirty.add(track);
  askFrame();
}

function askFrame() {
  if (frameAsked) return;
  frameAsked = true;
  requestAnimationFrame(function () {
    refreshBounds(true);
    var tracks = viewMoved ? timeline.tracks.slice() : Array.from(dirty);
    viewMoved = false;
    dirty.clear();
    frameAsked = false;
    tracks.forEach(function (each) { each.draw(); });
  });
}

/** A player's duration is known or changed: the axis's end, and streams stretched over it, follow. */
function mediaTimed() {
  if (!refreshBounds()) timeline.tracks.forEach(function (track) { track.draw(); });
}

function showViewText() {
  var output = root.querySelector(".timeline-view");
  if (output) output.textContent = "showing " + timeText(timeline.view[0]) + " – " + timeText(timeline.view[1]) +
    " of " + timeText(timeline.end);
  root.setAttribute("data-view", timeline.view[0] + " " + timeline.view[1]);
}

/** Show [t0, t1] on every track, redrawn for that range. `keep` leaves the user's zoom flag alone. */
function setView(view, keep) {
  var span = view[1] - view[0];
  if (!(span > 0)) return;
  timeline.view = [Math.max(0, view[0]), Math.min(timeline.end, view[1])];
  if (!keep) timeline.zoomedByUser = timeline.view[0] > 0 || timeline.view[1] < timeline.end;
  timeline.tracks.forEach(function (track) { track.draw(); });
  showViewText();
}

function setCursor(t) {
  timeline.cursor = Math.max(0, Math.min(t, timeline.end));
  timeline.tracks.forEach(function (track) { track.showCursor(); });
  var output = root.querySelector(".timeline-cursor");
  if (output) output.textContent = "cursor at " + timeText(timeline.cursor);
  root.setAttribute("data-cursor", String(timeline.cursor));
}

/** Go to time `t`: every player seeks there, the cursor moves, and the view follows it. */
function seek(t) {
  t = Math.max(0, Math.min(t, timeline.end));
  timeline.syncing = true;
  timeline.media.forEach(function (media) {
    if (isFinite(media.duration)) media.currentTime = Math.min(t, media.duration);
    else if (media.readyState >= 1) media.currentTime = t;
    media.timelineAsked = media.currentTime;  // its "seeked" event is this seek's, not the user's
  });
  timeline.syncing = false;
  setCursor(t);
  follow();
}

function follow() {
  var view = following(timeline.view, timeline.cursor, timeline.end);
  if (view !== timeline.view) setView(view, true);
}

function zoomBy(factor, center) {
  var smallest = 20 / fastestRate();
  setView(zoomed(timeline.view, factor, center === undefined ? timeline.cursor : center, timeline.end, smallest));
}

function panBy(share) {
  setView(panned(timeline.view, share * (timeline.view[1] - timeline.view[0]), timeline.end));
}

function fastestRate() {
  var fastest = 100;
  timeline.tracks.forEach(function (track) {
    if (track.rate && track.rate() > fastest) fastest = track.rate();
  });
  return fastest;
}

function playing() {
  return timeline.media.filter(function (media) { return !media.paused && !media.ended; })[0] || null;
}

/** Play every player together from the cursor, or pause them all. */
function togglePlay() {
  if (!timeline.media.length) return;
  if (playing()) {
    timeline.media.forEach(function (media) { media.pause(); });
    return;
  }
  timeline.syncing = true;
  timeline.media.forEach(function (media) {
    if (isFinite(media.duration) && timeline.cursor < media.duration) {
      media.currentTime = timeline.cursor;
      var started = media.play();
      if (started && started.catch) started.catch(function () {});
    }
  });
  timeline.syncing = false;
}

function tick() {
  var media = playing();
  timeline.frame = 0;
  if (!media) return;
  setCursor(media.currentTime);
  follow();
  timeline.frame = requestAnimationFrame(tick);
}

function showPlaying() {
  var button = root.querySelector('[data-action="play"]');
  var on = Boolean(playing());
  if (button) {
    button.textContent = on ? "Pause" : "Play";
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }
  root.setAttribute("data-playing", on ? "true" : "false");
}

function watchMedia(media) {
  timeline.media.push(media);
  media.addEventListener("loadedmetadata", mediaTimed);
  media.addEventListener("durationchange", mediaTimed);
  media.addEventListener("play", function () {
    showPlaying();
    if (!timeline.syncing) {  // its own controls: the other players join in, from its time
      timeline.syncing = true;
      timeline.media.forEach(function (other) {
        if (other !== media && other.paused && isFinite(other.duration) && media.currentTime < other.duration) {
          other.currentTime = media.currentTime;
          var started = other.play();
          if (started && started.catch) started.catch(function () {});
        }
      });
      timeline.syncing = false;
    }
    if (!timeline.frame) timeline.frame = requestAnimationFrame(tick);
  });
  media.addEventListener("pause", function () {
    showPlaying();
    if (!timeline.syncing) {
      timeline.syncing = true;
      timeline.media.forEach(function (other) { if (other !== media) other.pause(); });
      timeline.syncing = false;
    }
    setCursor(media.currentTime);
  });
  media.addEventListener("ended", showPlaying);
  media.addEventListener("seeked", function () {  // the player's own controls: the cursor follows
    if (timeline.syncing || media.seeking || playing() && playing() !== media) return;
    if (media.timelineAsked !== undefined && Math.abs(media.currentTime - media.timelineAsked) < 1e-3) return;
    media.timelineAsked = undefined;
    if (Math.abs(media.currentTime - timeline.cursor) > 1e-3) {
      setCursor(media.currentTime);
      follow();
    }
  });
}

/* --- One track ------------------------------------------------------------------------------------ */

function axisOptions() {
  return {
    scale: "x",
    space: 64,
    incrs: TIME_STEPS,
    stroke: AXIS,
    size: 28,
    font: "11px system-ui, sans-serif",
    grid: { stroke: "#eef1f4", width: 1 },
    ticks: { stroke: "#d8dee4", width: 1, size: 4 },
    values: function (plot, splits, axisIndex, space, step) {
      var clock = splits.length > 0 && splits[splits.length - 1] >= 60;
      return splits.map(function (value) { return secondsLabel(value, step, clock); });
    }
  };
}

/** A y axis with nothing on it, as wide as the others, so that every track's time axis lines up. */
function blankAxis() {
  return { scale: "y", size: Y_AXIS_SIZE, stroke: "transparent", grid: { show: false }, ticks: { show: false },
           label: " ", labelSize: LABEL_SIZE, splits: function () { return []; }, values: function () { return []; } };
}

/**
 * A track: its figure, a uPlot in its .track-plot, the playhead and selection over it, the pointer and
 * keyboard handling; `kind` supplies series, data and drawing.
 */
function Track(figure, kind) {
  this.figure = figure;
  this.kind = kind;
  this.box = figure.querySelector(".track-plot");
  this.status = figure.querySelector(".track-status");
  this.plot = null;
  this.pointers = new Map();
  timeline.tracks.push(this);
}

Track.prototype.name = function () {
  return this.figure.getAttribute("data-name") || "unnamed";
};

Track.prototype.say = function (text) {
  if (this.status) this.status.textContent = text;
};

Track.prototype.duration = function () {
  return this.kind.duration();
};

Track.prototype.rate = function () {
  return this.kind.rate ? this.kind.rate() : 0;
};

Track.prototype.width = function () {
  return Math.max(120, this.box.clientWidth || 600);
};

/** Make the uPlot (once the kind knows its series). */
Track.prototype.build = function () {
  var self = this;
  var setup = this.kind.setup();
  var options = {
    width: this.width(),
    height: setup.height,
    legend: { show: false },
    cursor: { show: false, drag: { x: false, y: false, setScale: false } },
    select: { show: false },
    scales: Object.assign({ x: { time: false, auto: false, range: function (plot, min, max) { return [min, max]; } } },
                          setup.scales || {}),
    axes: [axisOptions()].concat(setup.axes || []),
    series: [{}].concat(setup.series),
    hooks: { draw: [function (plot) { if (self.kind.paint) self.kind.paint(plot); self.placeCursor(); }] }
  };
  this.plot = new uPlot(options, setup.empty, this.box);
  this.playhead = element("div", "playhead");
  this.selection = element("div", "track-select");
  this.selection.hidden = true;
  this.plot.over.appendChild(this.selection);
  this.plot.over.appendChild(this.playhead);
  this.box.setAttribute("tabindex", "0");
  this.box.setAttribute("role", "slider");
  this.box.setAttribute("aria-label", "Time cursor on " + (this.figure.getAttribute("aria-label") || this.name()));
  this.box.setAttribute("aria-valuemin", "0");
  this.listen();
  this.draw();
};

Track.prototype.draw = function () {
  if (!this.plot) return;
  var started = now();
  var view = timeline.view;
  var shown = this.kind.data(view[0], view[1], this.plot.bbox.width / (window.devicePixelRatio || 1));
  var plot = this.plot;
  plot.batch(function () {
    plot.setData(shown.data, false);
    plot.setScale("x", { min: view[0], max: view[1] });
    Object.keys(shown.y || {}).forEach(function (key) { plot.setScale(key, shown.y[key]); });
  });
  this.figure.setAttribute("data-view", plot.scales.x.min + " " + plot.scales.x.max);
  this.figure.setAttribute("data-draw-ms", (now() - started).toFixed(2));
  this.box.setAttribute("aria-valuemax", String(timeline.end));
};

Track.prototype.placeCursor = function () {
  if (!this.plot || !this.playhead) return;
  var t = timeline.cursor;
  var inside = t >= this.plot.scales.x.min && t <= this.plot.scales.x.max;
  this.playhead.hidden = !inside;
  if (inside) this.playhead.style.transform = "translateX(" + this.plot.valToPos(t, "x").toFixed(1) + "px)";
};

Track.prototype.showCursor = function () {
  this.placeCursor();
  this.figure.setAttribute("data-cursor", String(timeline.cursor));
  if (this.box.hasAttribute("role")) {
    this.box.setAttribute("aria-valuenow", String(timeline.cursor));
    this.box.setAttribute("aria-valuetext", timeText(timeline.cursor));
  }
  if (this.kind.readout) this.kind.readout(timeline.cursor);
};

Track.prototype.timeAt = function (clientX) {
  var rect = this.plot.over.getBoundingClientRect();
  return this.plot.posToVal(Math.max(0, Math.min(rect.width, clientX - rect.left)), "x");
};

Track.prototype.listen = function () {
  var self = this;
  var over = this.plot.over;
  var start = null;
  over.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    over.setPointerCapture(event.pointerId);
    self.pointers.set(event.pointerId, event.clientX);
    if (self.pointers.size === 2) {  // a pinch on a touch screen
      start = { pinch: self.pinchSpan(), view: timeline.view.slice() };
      self.selection.hidden = true;
      return;
    }
    var rect = over.getBoundingClientRect();
    var cursorX = self.plot.valToPos(timeline.cursor, "x");
    start = { x: event.clientX, left: rect.left, scrub: !self.playhead.hidden && Math.abs(event.clientX - rect.left - cursorX) <= 6 };
  });
  over.addEventListener("pointermove", function (event) {
    if (!self.pointers.has(event.pointerId) || !start) return;
    self.pointers.set(event.pointerId, event.clientX);
    if (start.pinch) {
      var ratio = start.pinch / Math.max(1, self.pinchSpan());
      var center = self.timeAt(Array.from(self.pointers.values()).reduce(function (a, b) { return a + b; }, 0) / self.pointers.size);
      setView(zoomed(start.view, ratio, center, timeline.end, 20 / fastestRate()));
      return;
    }
    if (start.scrub) {
      seek(self.timeAt(event.clientX));
      return;
    }
    var from = Math.min(start.x, event.clientX) - start.left;
    var width = Math.abs(event.clientX - start.x);
    self.selection.hidden = width < 4;
    self.selection.style.transform = "translateX(" + from.toFixed(1) + "px)";
    self.selection.style.width = width.toFixed(1) + "px";
  });
  function end(event) {
    if (!self.pointers.has(event.pointerId)) return;
    self.pointers.delete(event.pointerId);
    if (!start) return;
    var begun = start;
    start = null;
    self.selection.hidden = true;
    if (begun.pinch || begun.scrub || event.type === "pointercancel") return;
    if (Math.abs(event.clientX - begun.x) < 4) {
      seek(self.timeAt(event.clientX));
    } else {
      var a = self.timeAt(begun.x);
      var b = self.timeAt(event.clientX);
      setView([Math.min(a, b), Math.max(a, b)]);
    }
  }
  over.addEventListener("pointerup", end);
  over.addEventListener("pointercancel", end);
  over.addEventListener("wheel", function (event) {
    if (event.ctrlKey || event.metaKey) {  // Ctrl + wheel, and a touchpad's pinch
      event.preventDefault();
      zoomBy(Math.exp(Math.max(-1, Math.min(1, event.deltaY * 0.01))), self.timeAt(event.clientX));
    } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
      event.preventDefault();
      var delta = event.shiftKey && !event.deltaX ? event.deltaY : event.deltaX;
      panBy(delta / Math.max(1, over.clientWidth));
    }
  }, { passive: false });
  this.box.addEventListener("keydown", function (event) {
    var span = timeline.view[1] - timeline.view[0];
    var step = span / (event.shiftKey ? 10 : 100);
    switch (event.key) {
      case "ArrowLeft": case "ArrowDown": seek(timeline.cursor - step); break;
      case "ArrowRight": case "ArrowUp": seek(timeline.cursor + step); break;
      case "PageUp": panBy(-0.5); break;
      case "PageDown": panBy(0.5); break;
      case "Home": seek(0); break;
      case "End": seek(timeline.end); break;
      case "+": case "=": zoomBy(0.5); break;
      case "-": case "_": zoomBy(2); break;
      case " ": togglePlay(); break;
      default: return;
    }
    event.preventDefault();
  });
};

Track.prototype.pinchSpan = function () {
  var xs = Array.from(this.pointers.values());
  return xs.length < 2 ? 1 : Math.abs(xs[0] - xs[1]);
};

/* --- Kinds of track ------------------------------------------------------------------------------- */

/** A player's span on the axis: a bar from 0 to its duration, so that it shares the axis and the cursor. */
function MediaKind(track, media) {
  this.track = track;
  this.media = media;
}

MediaKind.prototype.duration = function () {
  return isFinite(this.media.duration) ? this.media.duration : 0;
};

MediaKind.prototype.setup = function () {
  return { height: 56, series: [{ label: "span", stroke: "transparent", points: { show: false } }],
           axes: [blankAxis()], scales: { y: { auto: false, range: [0, 1] } }, empty: [[0, 1], [0.5, 0.5]] };
};

MediaKind.prototype.data = function (t0, t1) {
  return { data: [[t0, t1], [0.5, 0.5]], y: {} };  // an invisible line across the view: the x scale follows it
};

MediaKind.prototype.paint = function (plot) {
  var end = this.duration();
  if (!end) return;
  var context = plot.ctx;
  var left = Math.max(plot.bbox.left, plot.valToPos(0, "x", true));
  var right = Math.min(plot.bbox.left + plot.bbox.width, plot.valToPos(end, "x", true));
  if (right <= left) return;
  context.save();
  context.fillStyle = "#dbe7f5";
  context.fillRect(left, plot.bbox.top + plot.bbox.height * 0.25, right - left, plot.bbox.height * 0.5);
  context.restore();
};

MediaKind.prototype.readout = function () {};

/** Numbers against time: a sensor stream (read in the worker) or an audio waveform (decoded here). */
function SamplesKind(track, settings) {
  this.track = track;
  this.settings = settings;
  this.store = null;
  this.labels = [];
  this.times = null;
  this.timing = { rate: settings.rate || 1, how: settings.rate ? "datatype" : "index" };
  this.outputs = [];
  this.boxes = [];
  this.lanes = false;
}

SamplesKind.prototype.rate = function () {
  return this.timing.rate;
};

SamplesKind.prototype.retime = function () {
  var rows = this.store ? this.store.length : 0;
  var before = this.timing.how;
  this.timing = streamTiming(this.settings.rate, rows, this.times, mediaDuration());
  this.track.figure.setAttribute("data-timing", this.timing.how);
  if (before !== this.timing.how || this.timing.how !== "datatype") this.describe();
};

SamplesKind.prototype.duration = function () {
  if (!this.store || this.store.length < 1) return 0;
  this.retime();
  return Math.max(0, this.store.length - 1) / this.timing.rate;
};

SamplesKind.prototype.setup = function () {
  var count = this.store.channels.length;
  var self = this;
  this.lanes = count >= LANES_FROM;
  var series = [];
  for (var c = 0; c < count; c++) {
    series.push({ label: this.label(c), stroke: COLORS[c % COLORS.length], width: 1.25, points: { show: false },
                  spanGaps: false });
  }
  var axis = { scale: "y", size: Y_AXIS_SIZE, stroke: AXIS, font: "11px system-ui, sans-serif", grid: { stroke: "#f1f3f5" },
               ticks: { stroke: "#d8dee4", size: 4 } };
  if (this.lanes) {  // one lane per channel, named on the axis
    axis.splits = function () { return self.labelsBottomUp().map(function (_, lane) { return lane + 0.5; }); };
    axis.values = function () { return self.labelsBottomUp(); };
    axis.grid = { show: false };
  } else {
    axis.values = function (plot, splits) { return splits.map(numberLabel); };
  }
  axis.label = !this.lanes && this.settings.units ? this.settings.units : " ";  // the same room on every track
  axis.labelSize = LABEL_SIZE;
  axis.labelFont = "11px system-ui, sans-serif";
  var empty = [[]];
  for (var k = 0; k < count; k++) empty.push([]);
  return { height: this.lanes ? Math.max(200, 32 * count) : 170, series: series, axes: [axis],
           scales: { y: { auto: false, range: function (plot, min, max) { return [min, max]; } } }, empty: empty };
};

SamplesKind.prototype.labelsBottomUp = function () {
  var labels = [];
  for (var c = this.store.channels.length - 1; c >= 0; c--) labels.push(this.label(c));
  return labels;
};

SamplesKind.prototype.label = function (channel) {
  return this.settings.channels[channel] || this.labels[channel] || "channel " + (channel + 1);
};

SamplesKind.prototype.data = function (t0, t1, columns) {
  var shown = visibleData(this.store, this.timing.rate, t0, t1, columns);
  if (this.lanes) {
    var lanes = this.store.channels.length;
    var low = shown.low === null ? -1 : shown.low;
    var high = shown.high === null || shown.high === low ? low + 1 : shown.high;
    for (var c = 0; c < lanes; c++) {
      var lane = lanes - 1 - c;  // the first channel on top
      shown.data[c + 1] = shown.data[c + 1].map(function (value) {
        return value === null ? null : lane + 0.08 + 0.84 * (value - low) / (high - low);
      });
    }
    return { data: shown.data, y: { y: { min: 0, max: lanes } } };
  }
  var range = this.settings.range;
  var bottom = shown.low === null ? -1 : shown.low;
  var top = shown.high === null ? 1 : shown.high;
  if (range && range[0] <= bottom && range[1] >= top) {
    bottom = range[0];
    top = range[1];
  } else {
    var pad = (top - bottom) * 0.06 || Math.abs(top) * 0.1 || 1;
    bottom -= pad;
    top += pad;
  }
  return { data: shown.data, y: { y: { min: bottom, max: top } } };
};

/** The channel list: a toggle and the value at the cursor for each channel. */
SamplesKind.prototype.channelList = function () {
  var self = this;
  var group = element("div", "track-channels");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "Channels of " + this.track.name());
  this.store.channels.forEach(function (_, c) {
    var label = element("label", "channel series-" + (c % COLORS.length));
    var box = element("input");
    box.type = "checkbox";
    box.checked = true;
    box.addEventListener("change", function () {
      self.track.plot.setSeries(c + 1, { show: box.checked });
      self.track.figure.setAttribute("data-hidden-channels", String(self.boxes.filter(function (b) { return !b.checked; }).length));
    });
    var output = element("output", "channel-value", "–");
    label.appendChild(box);
    label.appendChild(element("span", "channel-swatch"));
    label.appendChild(element("span", "channel-label", self.label(c)));
    label.appendChild(output);
    group.appendChild(label);
    self.boxes.push(box);
    self.outputs.push(output);
  });
  this.track.box.insertAdjacentElement("afterend", group);
};

SamplesKind.prototype.readout = function (t) {
  if (!this.store) return;
  var index = sampleAt(t, this.timing.rate, this.store.length);
  var units = this.settings.units ? " " + this.settings.units : "";
  for (var c = 0; c < this.outputs.length; c++) {
    this.outputs[c].textContent = index < 0 ? "–" : numberLabel(this.store.channels[c][index]) + units;
  }
};

SamplesKind.prototype.describe = function () {
  if (!this.store || this.track.figure.getAttribute("data-state") === "loading") return;
  var rows = this.store.length;
  var parts = [rows.toLocaleString("en") + " samples × " + this.store.channels.length + " channel" +
               (this.store.channels.length === 1 ? "" : "s")];
  var how = this.timing.how;
  if (how === "datatype") parts.push("at " + numberLabel(this.timing.rate) + " Hz (" + timeText((rows - 1) / this.timing.rate) + ")");
  if (how === "time-column") parts.push("at about " + numberLabel(this.timing.rate) + " Hz, from its " + this.timeLabel + " column");
  if (this.format) parts.push(this.format);
  var note = "";
  var why = this.track.figure.getAttribute("data-datatype") === "unknown" ? "its datatype is unknown to the portal" : "it has no datatype";
  if (how === "stretched") note = "Its rate is not known (" + why + "): drawn stretched over the media's " + timeText(mediaDuration()) + ".";
  if (how === "index") note = "Its rate is not known (" + why + "): drawn by sample index, one sample per unit of the axis.";
  this.track.say(parts.join(", ") + (note ? ". " + note : ""));
};

/** Fetch and read the stream in the worker, drawing what has arrived as it arrives. */
SamplesKind.prototype.loadStream = function (url) {
  var self = this;
  var track = this.track;
  var worker = new Worker(new URL("./stream-worker.js", import.meta.url), { type: "module" });
  var stats = { started: now() };
  track.stats = stats;
  track.say("loading…");
  worker.onmessage = function (event) {
    var message = event.data;
    if (message.type === "progress") {
      if (message.received && !stats.firstBytes) stats.firstBytes = now();
      if (message.total) track.say("loading: " + Math.round(100 * message.received / message.total) + " % of " +
                                   (message.total / 1e6).toFixed(1) + " MB…");
    } else if (message.type === "received") {
      stats.allBytes = message.at - performance.timeOrigin;
    } else if (message.type === "rows") {
      if (!stats.firstBytes) stats.firstBytes = now();
      if (!stats.firstRowsRead) stats.firstRowsRead = message.at - performance.timeOrigin;
      stats.lastRowsRead = message.at - performance.timeOrigin;
      self.add(message.columns, message.rows);
      if (!stats.firstDraw) stats.firstDraw = now();
    } else if (message.type === "done") {
      worker.terminate();
      self.finish(message.result);
      stats.done = now();
      track.figure.setAttribute("data-stats", JSON.stringify(stats));
    } else if (message.type === "failed") {
      worker.terminate();
      self.fail(message.reason);
    }
  };
  worker.onerror = function (event) {
    worker.terminate();
    self.fail("it could not be read (" + (event.message || "the reader stopped") + ")");
  };
  worker.postMessage({ url: url, limit: STREAM_LIMIT });
};

SamplesKind.prototype.add = function (columns, rows) {
  if (!columns.length) return;
  var first = !this.store;
  if (first) this.store = new SampleStore(columns.length);
  this.store.append(columns, rows);
  this.track.figure.setAttribute("data-rows", String(this.store.length));
  this.track.figure.setAttribute("data-bytes", String(this.store.bytes()));
  if (first) {
    refreshBounds(true);
    this.track.build();  // drawn at once: the first rows show as soon as they are read
    this.channelList();
  }
  drawSoon(this.track);
};

SamplesKind.prototype.finish = function (result) {
  this.labels = result.labels || [];
  this.times = result.times || null;
  this.timeLabel = result.timeColumn;
  this.format = { "csv": "comma-separated text", "tsv": "tab-separated text", "whitespace": "space-separated text",
                  "semicolon-separated": "semicolon-separated text", "json-rows": "JSON rows",
                  "json-channels": "JSON, one array per channel", "json-object": "JSON, one array per key",
                  "audio": "decoded audio" }[result.format] || "";
  if (result.header) this.format += " with a header row";
  if (result.channelsCut) this.format += "; the first " + this.store.channels.length + " channels of " +
                                         (this.store.channels.length + result.channelsCut);
  var track = this.track;
  track.figure.setAttribute("data-state", "drawn");
  this.track.figure.querySelectorAll(".channel-label").forEach(function (span, c) { span.textContent = this.label(c); }, this);
  this.retime();
  this.describe();
  refreshBounds();
  track.draw();
  track.showCursor();
  checkDone();
};

SamplesKind.prototype.fail = function (reason) {
  var figure = this.track.figure;
  var guessed = figure.getAttribute("data-datatype") !== "known" && figure.getAttribute("data-kind") === "stream" &&
    !this.store;
  if (guessed) {  // a file whose type said nothing, and which holds no numbers: not a track after all
    leaveOut(this.track, reason);
  } else {
    figure.setAttribute("data-state", "failed");
    this.track.say("Cannot be drawn: " + reason + ".");
  }
  checkDone();
};

/** Decode an audio file in the browser and draw its waveform. */
SamplesKind.prototype.loadAudio = function (url) {
  var self = this;
  var track = this.track;
  track.say("decoding the waveform…");
  fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error("the portal answered " + response.status);
    var length = Number(response.headers.get("Content-Length")) || 0;
    if (length > AUDIO_LIMIT) {
      if (response.body) response.body.cancel();
      throw new Error("it is too long to decode here (" + Math.round(length / 1e6) + " MB); it plays above");
    }
    return response.arrayBuffer();
  }).then(function (bytes) {
    var Context = window.OfflineAudioContext || window.webkitOfflineAudioContext;
    return new Context(1, 1, 44100).decodeAudioData(bytes);
  }).then(function (buffer) {
    var channels = [];
    for (var c = 0; c < Math.min(buffer.numberOfChannels, 2); c++) channels.push(buffer.getChannelData(c));
    self.settings = { rate: buffer.sampleRate, channels: channels.length === 2 ? ["left", "right"] : ["amplitude"],
                      units: "", range: [-1, 1] };
    self.add(channels, buffer.length);
    self.finish({ format: "audio", labels: [] });
    track.say("waveform: " + timeText(buffer.duration) + ", " + (channels.length === 2 ? "stereo" : "mono") +
              ", decoded by the browser at " + buffer.sampleRate + " Hz");
  }).catch(function (error) {
    track.figure.setAttribute("data-state", "failed");
    track.say("No waveform: " + (error.message || "the browser could not decode it") + ".");
    checkDone();
  });
};

/** Events of a sparse datatype: marked spans with their labels. */
function EventsKind(track) {
  this.track = track;
  this.events = [];
  this.output = null;
}

EventsKind.prototype.duration = function () {
  var end = 0;
  this.events.forEach(function (event) { if (event.offset > end) end = event.offset; });
  return end;
};

EventsKind.prototype.setup = function () {
  return { height: 72, series: [{ label: "events", stroke: "transparent", points: { show: false } }],
           axes: [blankAxis()], scales: { y: { auto: false, range: [0, 1] } }, empty: [[0, 1], [0.5, 0.5]] };
};

EventsKind.prototype.data = function (t0, t1) {
  return { data: [[t0, t1], [0.5, 0.5]], y: {} };  // an invisible line across the view: the x scale follows it
};

EventsKind.prototype.paint = function (plot) {
  var context = plot.ctx;
  var ratio = window.devicePixelRatio || 1;
  var top = plot.bbox.top + 4 * ratio;
  var height = plot.bbox.height - 8 * ratio;
  var t0 = plot.scales.x.min;
  var t1 = plot.scales.x.max;
  var labels = {};
  context.save();
  context.font = (11 * ratio) + "px system-ui, sans-serif";
  context.textBaseline = "middle";
  this.events.forEach(function (event) {
    if (event.offset < t0 || event.onset > t1) return;
    var color = labels[event.label] || (labels[event.label] = COLORS[Object.keys(labels).length % COLORS.length]);
    var left = plot.valToPos(event.onset, "x", true);
    var right = Math.max(left + 2 * ratio, plot.valToPos(event.offset, "x", true));
    context.fillStyle = color;
    context.globalAlpha = 0.25;
    context.fillRect(left, top, right - left, height);
    context.globalAlpha = 1;
    context.fillRect(left, top, Math.max(1, ratio), height);
    if (event.label && right - left > 24 * ratio) {
      context.fillStyle = "#1d2329";
      context.fillText(event.label, left + 3 * ratio, top + height / 2, right - left - 4 * ratio);
    }
  });
  context.restore();
};

EventsKind.prototype.readout = function (t) {
  if (!this.output) return;
  var under = eventsAt(this.events, t, 0);
  this.output.textContent = under.length ? under.map(function (event) {
    return (event.label || "event") + " (" + timeText(event.onset) + " – " + timeText(event.offset) + ")";
  }).join(", ") : "no event at the cursor";
};

EventsKind.prototype.load = function (url) {
  var self = this;
  var track = this.track;
  track.say("loading…");
  fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error("the portal answered " + response.status);
    if (Number(response.headers.get("Content-Length")) > EVENTS_LIMIT) {
      if (response.body) response.body.cancel();
      throw new Error("it is too large to draw here: download it");
    }
    return response.text();
  }).then(function (text) {
    var result = readEvents(text);
    if (!result.ok) throw new Error(result.reason);
    self.events = result.events;
    self.output = element("output", "track-events-readout", "");
    track.figure.setAttribute("data-events", String(self.events.length));
    track.figure.setAttribute("data-state", "drawn");
    track.build();
    track.box.insertAdjacentElement("afterend", self.output);
    track.say(self.events.length + " event" + (self.events.length === 1 ? "" : "s") + ", drawn as marked spans");
    refreshBounds();
    track.showCursor();
    checkDone();
  }).catch(function (error) {
    track.figure.setAttribute("data-state", "failed");
    track.say("Cannot be drawn: " + error.message + ".");
    checkDone();
  });
};

/* --- Start ------------------------------------------------------------------------------------------- */

function leaveOut(track, reason) {
  track.figure.setAttribute("data-state", "left-out");
  track.figure.hidden = true;
  timeline.tracks.splice(timeline.tracks.indexOf(track), 1);
  var details = root.querySelector(".timeline-left-out");
  if (!details) return;
  details.hidden = false;
  var item = element("li");
  item.appendChild(element("strong", "", track.name()));
  item.appendChild(document.createTextNode(": not a stream of numbers: " + reason + "."));
  details.querySelector("ul").appendChild(item);
}

function checkDone() {
  var waiting = Array.prototype.some.call(root.querySelectorAll("figure.track"), function (figure) {
    return figure.getAttribute("data-state") === "loading";
  });
  if (!waiting) {
    root.setAttribute("data-state", "drawn");
    if (!root.hasAttribute("data-drawn-at")) root.setAttribute("data-drawn-at", now().toFixed(1));
  }
}

function settingsOf(figure) {
  var value = null;
  try {
    value = JSON.parse(figure.getAttribute("data-settings") || "null");
  } catch (error) {
    value = null;
  }
  value = value && typeof value === "object" ? value : {};
  return {
    rate: typeof value.rate === "number" && value.rate > 0 ? value.rate : null,
    channels: Array.isArray(value.channels) ? value.channels.map(String) : [],
    units: typeof value.units === "string" ? value.units : "",
    range: Array.isArray(value.range) && value.range.length === 2 && value.range[0] < value.range[1] ? value.range : null
  };
}

function start() {
  if (!root) return;
  root.querySelector(".timeline-toolbar").hidden = false;
  root.querySelector(".timeline-help").hidden = false;
  root.querySelectorAll("figure.track").forEach(function (figure) {
    var kind = figure.getAttribute("data-kind");
    var url = figure.getAttribute("data-src");
    var track = new Track(figure, null);
    figure.setAttribute("data-state", "loading");
    if (kind === "video" || kind === "audio") {
      var media = figure.querySelector(".track-media");
      watchMedia(media);
      if (kind === "video") {
        track.kind = new MediaKind(track, media);
        track.build();
        figure.setAttribute("data-state", "drawn");
        track.say("");
      } else {
        track.kind = new SamplesKind(track, { rate: null, channels: [], units: "", range: [-1, 1] });
        track.kind.loadAudio(url);
      }
    } else if (kind === "events") {
      track.kind = new EventsKind(track);
      track.kind.load(url);
    } else {
      track.kind = new SamplesKind(track, settingsOf(figure));
      track.kind.loadStream(url);
    }
  });
  root.querySelector(".timeline-toolbar").addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) return;
    var action = button.getAttribute("data-action");
    if (action === "play") togglePlay();
    if (action === "zoom-in") zoomBy(0.5);
    if (action === "zoom-out") zoomBy(2);
    if (action === "earlier") panBy(-0.5);
    if (action === "later") panBy(0.5);
    if (action === "all") setView([0, timeline.end]);
  });
  if ("ResizeObserver" in window) {
    var width = root.clientWidth;
    new ResizeObserver(function () {
      if (root.clientWidth === width) return;
      width = root.clientWidth;
      timeline.tracks.forEach(function (track) {
        if (!track.plot) return;
        track.plot.setSize({ width: track.width(), height: track.plot.height });
        track.draw();
      });
    }).observe(root);
  }
  refreshBounds();
  setCursor(0);
  showPlaying();
  checkDone();
}

start();
