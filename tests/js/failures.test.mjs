// What the upload pages say when nothing was created or sent (static/failures.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import { answerError, describeFailure, existingDatapackText, loginHref } from "../../static/failures.js";

const BASE = "https://portal.example/portal/upload";
const OPTIONS = { loginUrl: "/portal/auth/login", datapackUrl: (id) => "/portal/datapacks/" + encodeURIComponent(id) };
const describe = (failure, backTo = "/portal/upload") => describeFailure(failure, OPTIONS, backTo, BASE);

test("loginHref keeps the login path and points next back to the page", () => {
  assert.equal(loginHref("/auth/login", "/upload", BASE), "/auth/login?next=%2Fupload");
  assert.equal(loginHref("https://portal.example/auth/login?x=1", "/datapacks/a b", BASE), "/auth/login?x=1&next=%2Fdatapacks%2Fa+b");
  assert.equal(loginHref("", "", BASE), "/auth/login");
  assert.equal(loginHref(null, "/upload", BASE), "/auth/login?next=%2Fupload");
});

test("answerError: the portal's own words, else the status", () => {
  assert.equal(answerError({ status: 502, body: { error: "repovizz2 is down" } }, "Nothing was sent"), "repovizz2 is down");
  assert.equal(answerError({ status: 502, body: null }, "Nothing was sent"), "Nothing was sent (the portal answered 502)");
});

test("problems found in the browser are listed as they are", () => {
  assert.deepEqual(describe({ problems: ["document: is larger than 1 KB"] }), { problems: ["document: is larger than 1 KB"] });
});

test("no answer at all: the portal could not be reached", () => {
  for (const failure of [new TypeError("Failed to fetch"), undefined, null]) {
    assert.deepEqual(describe(failure), { title: "The portal could not be reached",
      message: "Nothing was created. Check your connection and try again.", link: null });
  }
});

test("422: the rules' problems, or its error as the one problem", () => {
  assert.deepEqual(describe({ answer: { status: 422, body: { problems: ["info: 'author' is required"] } } }),
                   { problems: ["info: 'author' is required"] });
  assert.deepEqual(describe({ answer: { status: 422, body: { error: "too many files", problems: [] } } }),
                   { problems: ["too many files"] });
  assert.deepEqual(describe({ answer: { status: 422, body: null } }), { problems: ["the datapack breaks the rules"] });
});

test("401: log in again, back to where the user was", () => {
  assert.deepEqual(describe({ answer: { status: 401, body: {} } }), {
    title: "Your repovizz2 login has expired", message: "Nothing was created.",
    link: { href: "/portal/auth/login?next=%2Fportal%2Fupload", text: "Log in again" } });
  assert.equal(describe({ answer: { status: 401, body: { login: "/other/login" } } }, "/portal/datapacks/x").link.href,
               "/other/login?next=%2Fportal%2Fdatapacks%2Fx");
});

test("409: the name is taken, with another name offered and a way to the existing datapack", () => {
  const message = describe({ answer: { status: 409, body: { error: "The name MYO is taken.", existing_id: "a/b",
    existing_pending: 0, suggested_name: "MYO (2)" } } });
  assert.deepEqual(message, {
    title: "You already have a datapack with that name",
    message: "The name MYO is taken. Nothing new was created. Upload it under another name, or open the existing one.",
    rename: { suggested: "MYO (2)" },
    link: { href: "/portal/datapacks/a%2Fb", button: true, text: "Open the existing datapack" } });
  assert.equal(describe({ answer: { status: 409, body: {} } }).link, null);
  assert.deepEqual(describe({ answer: { status: 409, body: {} } }).rename, { suggested: "" });
  assert.match(describe({ answer: { status: 409, body: {} } }).message, /^Nothing new was created\./);
});

test("409: the existing datapack's pending files are spoken of only when it has some", () => {
  const text = (pending) => describe({ answer: { status: 409, body: { existing_id: "x", existing_pending: pending } } }).link.text;
  assert.equal(text(3), "Open the existing datapack and finish its 3 pending files");
  assert.equal(text(1), "Open the existing datapack and finish its 1 pending file");
  assert.equal(text(0), "Open the existing datapack");
  assert.equal(text(null), "Open the existing datapack");  // it could not be looked up
  assert.equal(text(undefined), "Open the existing datapack");
  assert.equal(existingDatapackText(2), "Open the existing datapack and finish its 2 pending files");
});

test("400 with problems lists them; anything else is an error box", () => {
  assert.deepEqual(describe({ answer: { status: 400, body: { problems: ["files: not a list"] } } }), { problems: ["files: not a list"] });
  assert.deepEqual(describe({ answer: { status: 400, body: { error: "bad request" } } }),
                   { title: "The upload could not start", message: "bad request", link: null });
  assert.deepEqual(describe({ answer: { status: 503, body: { title: "repovizz2 is not answering", error: "try later" } } }),
                   { title: "repovizz2 is not answering", message: "try later", link: null });
  assert.deepEqual(describe({ answer: { status: 500, body: null } }),
                   { title: "The upload could not start", message: "Nothing was sent (the portal answered 500)", link: null });
});
