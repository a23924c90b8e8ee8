/*
 * A module Web Worker that fetches one sensor stream and reads it (stream-readers.js) as its bytes
 * arrive, off the page's thread: a 100 MB file never freezes the page. Asked with {url, limit}, it
 * answers with messages:
 *   {type: "progress", received, total}                       bytes so far (total: null when unknown)
 *   {type: "received", at}                                    every byte is in (at: ms since the epoch)
 *   {type: "rows", columns: [Float32Array…], rows, received, at}  the rows read since the last message
 *   {type: "done", result}                                    the reader's finish() (ok, format, labels…)
 *   {type: "failed", reason}                                  the file could not be fetched or read
 * The columns' buffers are transferred, not copied.
 */
import { createStreamReader } from "./stream-readers.js";

var POST_EVERY_MS = 120;

function post(message, columns) {
  self.postMessage(message, columns ? columns.map(function (column) { return column.buffer; }) : []);
}

function flush(reader, received) {
  for (var part = reader.take(); part; part = reader.take()) {
    post({ type: "rows", columns: part.columns, rows: part.rows, received: received,
           at: performance.timeOrigin + performance.now() }, part.columns);
  }
}

async function read(url, limit) {
  var response;
  try {
    response = await fetch(url, { credentials: "same-origin" });
  } catch (error) {
    post({ type: "failed", reason: "it could not be fetched (" + error.message + ")" });
    return;
  }
  if (!response.ok) {
    post({ type: "failed", reason: "the portal answered " + response.status + " to its download" });
    return;
  }
  var total = Number(response.headers.get("Content-Length")) || null;
  if (limit && total && total > limit) {
    response.body.cancel();
    post({ type: "failed", reason: "it is too large to draw here (" + Math.round(total / 1e6) + " MB; the limit is " +
                                    Math.round(limit / 1e6) + " MB): download it" });
    return;
  }
  post({ type: "progress", received: 0, total: total });
  var reader = createStreamReader();
  var decoder = new TextDecoder("utf-8");
  var body = response.body.getReader();
  var received = 0;
  var posted = 0;  // when rows were last posted (0: never, so the first rows go out at once)
  for (;;) {
    var chunk = await body.read();
    if (chunk.done) break;
    received += chunk.value.byteLength;
    if (limit && received > limit) {
      body.cancel();
      post({ type: "failed", reason: "it is too large to draw here (over " + Math.round(limit / 1e6) + " MB): download it" });
      return;
    }
    reader.push(decoder.decode(chunk.value, { stream: true }));
    var now = Date.now();
    if (now - posted >= POST_EVERY_MS) {
      flush(reader, received);
      post({ type: "progress", received: received, total: total });
      posted = now;
    }
  }
  post({ type: "received", at: performance.timeOrigin + performance.now() });  // every byte is in
  reader.push(decoder.decode());
  var result = reader.finish();
  flush(reader, received);
  if (result.ok) post({ type: "done", result: result });
  else post({ type: "failed", reason: result.reason });
}

self.onmessage = function (event) {
  read(event.data.url, event.data.limit).catch(function (error) {
    post({ type: "failed", reason: "it could not be read (" + error.message + ")" });
  });
};
