/*
 * The upload queue: which file is sent next, a few at a time; retries with backoff; what an answer
 * means (uploaded, logged out, a lost answer to check, a failure to retry or to show); cancel.
 * Pure: no DOM and no network of its own (the caller gives `send` and `checkArrived`), so Node can
 * drive it with fake senders and timers. transfer.js draws it and sends with XMLHttpRequest.
 */
import { RETRIES, isRetryable, retryDelay } from "./transfer-rules.js";

/** The states a file goes through: queued → sending → uploaded, or waiting (to retry), failed, unsent. */
export const BUSY_STATES = ["queued", "sending", "waiting"];

const realTimers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (timer) => clearTimeout(timer),
};

/**
 * Sends `files` ([{path, size, ...}]: anything; kept as each item's `file`) `parallel` at a time.
 * options:
 *   send(item, onProgress)   starts one PUT; returns {answer: Promise<{status, body}>, abort()}
 *                            (status 0 when the connection failed); onProgress(bytes) as it goes
 *   checkArrived(item)       after a 404: Promise<true|false|null> (arrived, still pending, no telling)
 *   parallel, retryDelay (base ms), retries, random (for the jitter), timers {set, clear}
 *   events: {change(item), retrying(item, ms), done(item, body), failed(item), loggedOut(body), finished(failedCount)}
 */
export class UploadQueue {
  constructor(files, options) {
    this.options = options;
    this.parallel = Math.max(1, options.parallel || 4);
    this.retries = options.retries >= 0 ? options.retries : RETRIES;
    this.timers = options.timers || realTimers;
    this.events = options.events || {};
    this.items = files.map((file, index) => ({
      index, file, size: file.size, loaded: 0, state: "queued", attempt: 0, error: "", ref: null,
      request: null, timer: null,
    }));
    this.stopped = false;
    this.finished = false;
  }

  get total() {
    return this.items.reduce((sum, item) => sum + item.size, 0);
  }

  get loaded() {
    return this.items.reduce((sum, item) => sum + item.loaded, 0);
  }

  count(state) {
    return this.items.filter((item) => item.state === state).length;
  }

  busy() {
    return this.items.some((item) => BUSY_STATES.includes(item.state));
  }

  start() {
    this.pump();
  }

  /** Start queued files while fewer than `parallel` are being sent; then see whether all is over. */
  pump() {
    if (this.stopped) return;
    let free = this.parallel - this.count("sending");
    for (const item of this.items) {
      if (free <= 0) break;
      if (item.state === "queued") {
        this.send(item);
        free -= 1;
      }
    }
    this.checkFinished();
  }

  setState(item, state) {
    item.state = state;
    this.emit("change", item);
  }

  emit(name, ...args) {
    const handler = this.events[name];
    if (handler) handler(...args);
  }

  send(item) {
    item.attempt += 1;
    item.loaded = 0;
    item.error = "";
    this.setState(item, "sending");
    const request = this.options.send(item, (bytes) => {
      if (item.request !== request) return;
      // The last bytes count only once the portal has passed the file on to repovizz2.
      item.loaded = Math.min(bytes, Math.max(0, item.size - 1));
      this.emit("change", item);
    });
    item.request = request;
    request.answer.then(
      (answer) => { if (item.request === request) this.answered(item, answer); },
      () => { if (item.request === request) this.answered(item, {status: 0, body: null}); },
    );
  }

  answered(item, answer) {
    item.request = null;
    if (this.stopped) return;
    const body = answer.body;
    if (answer.status === 200 && body && body.ref) {
      this.done(item, body);
    } else if (answer.status === 401) {
      this.loggedOut(body);
    } else if (answer.status === 404) {
      this.checkArrived(item, (body && body.error) || "the portal answered 404");
    } else {
      const fallback = answer.status ? "the portal answered " + answer.status : "the connection to the portal failed";
      this.failed(item, answer.status, (body && body.error) || fallback);
    }
  }

  /**
   * A 404: no data node has the file's link any more. When an earlier try reached repovizz2 and
   * only its answer was lost, the link was rewritten and the file is there: the pending listing
   * tells. Uploaded when the link is no longer pending; failed when it still is or nobody can tell.
   */
  checkArrived(item, message) {
    const check = this.options.checkArrived ? this.options.checkArrived(item) : Promise.resolve(null);
    Promise.resolve(check).catch(() => null).then((pending) => {
      if (this.stopped || item.state !== "sending") return;
      if (pending === false) this.done(item, {ref: null});
      else this.failed(item, 404, message);
    });
  }

  done(item, body) {
    item.loaded = item.size;
    item.ref = body.ref;
    this.setState(item, "uploaded");
    this.emit("done", item, body);
    this.pump();
  }

  failed(item, status, message) {
    item.loaded = 0;
    item.error = message;
    if (isRetryable(status) && item.attempt <= this.retries) {
      const delay = retryDelay(this.options.retryDelay || 0, item.attempt, this.options.random);
      this.setState(item, "waiting");
      this.emit("retrying", item, delay);
      item.timer = this.timers.set(() => {
        item.timer = null;
        if (this.stopped || item.state !== "waiting") return;
        this.setState(item, "queued");
        this.pump();
      }, delay);
      this.pump();
      return;
    }
    this.setState(item, "failed");
    this.emit("failed", item);
    this.pump();
  }

  /** Send a failed file again, with a fresh set of tries. */
  retry(item) {
    if (this.stopped || item.state !== "failed") return;
    item.attempt = 0;
    this.finished = false;
    this.setState(item, "queued");
    this.pump();
  }

  /** Stop everything: requests aborted, retries forgotten, every file not uploaded marked unsent. */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    for (const item of this.items) {
      if (item.timer !== null) this.timers.clear(item.timer);
      item.timer = null;
      const request = item.request;
      item.request = null;
      if (request) request.abort();
      if (item.state !== "uploaded") {
        item.loaded = 0;
        this.setState(item, "unsent");
      }
    }
  }

  cancel() {
    this.stop();
  }

  loggedOut(body) {
    this.stop();
    this.emit("loggedOut", body);
  }

  checkFinished() {
    if (this.stopped || this.finished || this.busy()) return;
    this.finished = true;
    this.emit("finished", this.count("failed"));
  }
}
