// The upload queue (static/upload-queue.js): parallel limit, retries with backoff, cancel, lost answers.
import { test } from "node:test";
import assert from "node:assert/strict";

import { UploadQueue } from "../../static/upload-queue.js";

/** A sender whose requests the test answers by hand, and timers the test fires by hand. */
function harness(files, options = {}) {
  const requests = [];
  const timers = [];
  const seen = {finished: [], retrying: [], loggedOut: [], done: []};
  const queue = new UploadQueue(files, {
    parallel: 2,
    retryDelay: 1000,
    random: 0.5,
    timers: {
      set: (callback, ms) => { const timer = {callback, ms, cleared: false}; timers.push(timer); return timer; },
      clear: (timer) => { timer.cleared = true; },
    },
    send: (item, onProgress) => {
      let answer;
      const request = {item, aborted: false, onProgress, answer: new Promise((resolve) => { answer = resolve; })};
      request.reply = (status, body) => { answer({status, body}); return settle(); };
      request.abort = () => { request.aborted = true; };
      requests.push(request);
      return request;
    },
    checkArrived: options.checkArrived,
    events: {
      finished: (failed) => seen.finished.push(failed),
      retrying: (item, ms) => seen.retrying.push([item.file.path, ms]),
      loggedOut: (body) => seen.loggedOut.push(body),
      done: (item) => seen.done.push(item.file.path),
    },
  });
  return {queue, requests, timers, seen};
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const files = (...names) => names.map((path, index) => ({path, size: 100 * (index + 1)}));

test("at most `parallel` files are sent at once; the next starts when one is done", async () => {
  const {queue, requests, seen} = harness(files("a", "b", "c"));
  queue.start();
  assert.deepEqual(requests.map((request) => request.item.file.path), ["a", "b"]);
  await requests[0].reply(200, {ref: "repovizz:1"});
  assert.deepEqual(requests.map((request) => request.item.file.path), ["a", "b", "c"]);
  await requests[1].reply(200, {ref: "repovizz:2"});
  assert.deepEqual(seen.finished, []);
  await requests[2].reply(200, {ref: "repovizz:3"});
  assert.deepEqual(seen.finished, [0]);
  assert.deepEqual(seen.done, ["a", "b", "c"]);
  assert.deepEqual(queue.items.map((item) => item.ref), ["repovizz:1", "repovizz:2", "repovizz:3"]);
  assert.equal(queue.loaded, queue.total);
});

test("progress counts the last byte only once the portal answered", async () => {
  const {queue, requests} = harness(files("a"));
  queue.start();
  requests[0].onProgress(100);
  assert.equal(queue.loaded, 99);
  await requests[0].reply(200, {ref: "repovizz:1"});
  assert.equal(queue.loaded, 100);
});

test("a server error is retried after 1 s, 2 s, 4 s, then the file fails and the rest goes on", async () => {
  const {queue, requests, timers, seen} = harness(files("a"));
  queue.start();
  for (const expected of [1000, 2000, 4000]) {
    await requests.at(-1).reply(503, {error: "busy"});
    assert.equal(queue.items[0].state, "waiting");
    assert.equal(timers.at(-1).ms, expected);
    timers.at(-1).callback();
  }
  assert.equal(requests.length, 4);
  await requests.at(-1).reply(503, {error: "busy"});
  assert.equal(queue.items[0].state, "failed");
  assert.equal(queue.items[0].error, "busy");
  assert.deepEqual(seen.finished, [1]);
  queue.retry(queue.items[0]);  // the Retry button: a fresh set of tries
  assert.equal(requests.length, 5);
  await requests.at(-1).reply(200, {ref: "repovizz:1"});
  assert.deepEqual(seen.finished, [1, 0]);
});

test("a refusal is not retried; a lost connection is", async () => {
  const {queue, requests, seen} = harness(files("a", "b"));
  queue.start();
  await requests[0].reply(413, {error: "too large"});
  await requests[1].reply(0, null);
  assert.equal(queue.items[0].state, "failed");
  assert.equal(queue.items[1].state, "waiting");
  assert.equal(queue.items[1].error, "the connection to the portal failed");
  assert.deepEqual(seen.retrying, [["b", 1000]]);
});

test("a 404 whose link is no longer pending was a lost answer: the file is uploaded", async () => {
  const {queue, requests} = harness(files("a", "b"), {
    checkArrived: (item) => Promise.resolve(item.file.path === "a" ? false : true),
  });
  queue.start();
  await requests[0].reply(404, {error: "no such link"});
  await requests[1].reply(404, {error: "no such link"});
  await settle();
  assert.equal(queue.items[0].state, "uploaded");
  assert.equal(queue.items[1].state, "failed");
  assert.equal(queue.items[1].error, "no such link");
});

test("a 404 nobody can explain fails the file", async () => {
  const {queue, requests} = harness(files("a"), {checkArrived: () => Promise.reject(new Error("offline"))});
  queue.start();
  await requests[0].reply(404, null);
  await settle();
  assert.equal(queue.items[0].state, "failed");
});

test("cancel aborts what is being sent, forgets the retries, keeps what is uploaded", async () => {
  const {queue, requests, timers, seen} = harness(files("a", "b", "c", "d"));
  queue.start();
  await requests[0].reply(200, {ref: "repovizz:1"});
  await requests[1].reply(500, null);  // b waits to retry; c and d are being sent
  queue.cancel();
  assert.deepEqual(queue.items.map((item) => item.state), ["uploaded", "unsent", "unsent", "unsent"]);
  assert.ok(requests.slice(2).every((request) => request.aborted));
  assert.ok(timers[0].cleared);
  await requests[2].reply(200, {ref: "repovizz:3"});  // an answer arriving after the cancel changes nothing
  assert.equal(queue.items[2].state, "unsent");
  assert.deepEqual(seen.finished, []);
  assert.equal(queue.busy(), false);
});

test("a lost login stops everything and says so once", async () => {
  const {queue, requests, seen} = harness(files("a", "b"));
  queue.start();
  await requests[0].reply(401, {login: "/auth/login"});
  await requests[1].reply(401, {login: "/auth/login"});
  assert.deepEqual(seen.loggedOut, [{login: "/auth/login"}]);
  assert.ok(requests[1].aborted);
  assert.deepEqual(queue.items.map((item) => item.state), ["unsent", "unsent"]);
});
