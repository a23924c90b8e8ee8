/*
 * What to tell the user when the portal did not create (or resume) a datapack: the portal's answer
 * (or the problems found before asking) turned into a message. Pure: no DOM, importable by Node;
 * messages.js draws what these describe.
 */

/** The login URL with `next` pointing back to `nextPath` (a path, resolved against `base`). */
export function loginHref(loginUrl, nextPath, base) {
  const url = new URL(loginUrl || "/auth/login", base);
  if (nextPath) url.searchParams.set("next", nextPath);
  return url.pathname + url.search;
}

/** The portal's own error text, or `fallback` with the status. */
export function answerError(answer, fallback) {
  if (answer.body && answer.body.error) return answer.body.error;
  return fallback + " (the portal answered " + answer.status + ")";
}

/** The button to the datapack that has the name: it speaks of pending files only when it has some. */
export function existingDatapackText(pending) {
  if (typeof pending === "number" && pending > 0) {
    return "Open the existing datapack and finish its " + pending + " pending file" + (pending !== 1 ? "s" : "");
  }
  return "Open the existing datapack";
}

/** The message for a taken name (409): the portal's words, a rename box, and a button to the one that has it. */
function nameTaken(body, options) {
  return {
    title: "You already have a datapack with that name",
    message: (body.error ? body.error.replace(/\.$/, "") + ". " : "") + "Nothing new was created. " +
      "Upload it under another name, or open the existing one.",
    rename: {suggested: typeof body.suggested_name === "string" ? body.suggested_name : ""},
    link: body.existing_id ? {href: options.datapackUrl(body.existing_id), button: true,
      text: existingDatapackText(body.existing_pending)} : null
  };
}

/**
 * The message for a failure: {problems: [...]} (a list to fix) or {title, message, link} (an error
 * box; link is {href, text, button} or null); a taken name (409) adds rename: {suggested} (the name
 * the portal offers instead).
 *   failure   {problems} found in the browser, {answer: {status, body}} from the portal, or anything
 *             else when the portal could not be reached
 *   options   {loginUrl, datapackUrl(id)}
 *   backTo    the path a new login returns to; base: the page's URL
 */
export function describeFailure(failure, options, backTo, base) {
  if (failure && failure.problems) return {problems: failure.problems};
  const answer = failure && failure.answer;
  if (!answer) {
    return {title: "The portal could not be reached",
      message: "Nothing was created. Check your connection and try again.", link: null};
  }
  const body = answer.body || {};
  switch (answer.status) {
    case 422:
      return {problems: body.problems && body.problems.length ? body.problems
        : [body.error || "the datapack breaks the rules"]};
    case 401:
      return {title: "Your repovizz2 login has expired", message: "Nothing was created.",
        link: {href: loginHref(body.login || options.loginUrl, backTo, base), text: "Log in again"}};
    case 409:
      return nameTaken(body, options);
    default:
      if (answer.status === 400 && body.problems && body.problems.length) return {problems: body.problems};
      return {title: body.title || "The upload could not start", message: answerError(answer, "Nothing was sent"),
        link: null};
  }
}
