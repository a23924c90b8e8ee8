"""The calls the portal made to repovizz2 during one upload, as the result page's "What happened in
repovizz2" panel shows them (`PORTAL_SHOW_API_CALLS`): each call's method, path, the JSON sent and
the answer, shortened to what a person reads; the same sequence as a Python snippet; and the calls a
browser reports back after sending the files itself, checked and labelled as reported.

A call is a dict: ``{"method", "path", "sent", "status", "answer"}`` (plus ``"reported": True`` for
those that came from the browser). No header is ever kept, so no token can reach the page.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import pprint
import re
from typing import Any
from urllib.parse import quote, unquote

API = "/api/v1.0"
MAX_STRING = 160          # characters of a string kept before "…"
MAX_ITEMS = 6             # items of a list (keys of an object) kept before "… n more"
MAX_DEPTH = 6             # levels of nesting kept
MAX_REPORTED_BYTES = 1024 * 1024   # about 4000 file calls; the result form takes 4 MiB a field
MAX_REPORTED_CALLS = 5000
METHODS = ("GET", "POST", "PUT", "DELETE")
_PLAIN_PATH = re.compile(r"/api/v1\.0(?:/[A-Za-z0-9._~:%-]{1,4000}){0,6}")


def shorten(value: Any, depth: int = 0) -> Any:
    """`value` with long strings cut, long lists and objects cut after a few items (saying how many
    more there were) and deep nesting elided: enough to see the shape, small enough to read."""
    if isinstance(value, str):
        return value if len(value) <= MAX_STRING else value[:MAX_STRING] + f"… ({len(value)} characters)"
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        keys = list(value)
        kept = {str(key): shorten(value[key], depth + 1) for key in keys[:MAX_ITEMS]}
        if len(keys) > MAX_ITEMS:
            kept["…"] = f"{len(keys) - MAX_ITEMS} more"
        return kept
    if isinstance(value, (list, tuple)):
        kept = [shorten(item, depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            kept.append(f"… {len(value) - MAX_ITEMS} more")
        return kept
    return str(value)


def call(method: str, path: str, sent: Any, status: int | None, answer: Any) -> dict:
    """One call as the panel keeps it (`sent` and `answer` shortened)."""
    return {"method": method, "path": path, "sent": shorten(sent), "status": status, "answer": shorten(answer)}


def _canonical(made: dict) -> bytes:
    return json.dumps({key: value for key, value in made.items() if key != "proof"}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True).encode()


def signing_key(secret_key: str | bytes) -> bytes:
    """The key the calls are signed with, from the app's secret key."""
    secret = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    return hmac.new(secret, b"portal api calls", hashlib.sha256).digest()


def _proof(made: dict, key: bytes) -> str:
    return hmac.new(key, b"api-call\0" + _canonical(made), hashlib.sha256).hexdigest()


def signed(calls: list[dict], key: bytes) -> list[dict]:
    """The calls the portal made, each with a `proof` (an HMAC under the app's secret key) that the
    browser hands back unchanged: the result page then lists only calls the portal itself made."""
    return [{**made, "proof": _proof(made, key)} for made in calls]


def from_browser(raw: str | None, key: bytes) -> list[dict]:
    """The calls a browser posts back with the result form (its JSON text), checked: a list of at
    most MAX_REPORTED_CALLS calls, each one the portal made and signed (`signed`), with a known method
    and a plain repovizz2 API path, its JSON shortened again. Anything else — too large, not JSON, a
    wrong shape, a call the portal did not sign — gives an empty list."""
    if not raw or len(raw.encode("utf-8", "replace")) > MAX_REPORTED_BYTES:
        return []
    try:
        reported = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    if not isinstance(reported, list) or len(reported) > MAX_REPORTED_CALLS:
        return []
    calls = []
    for item in reported:
        if not isinstance(item, dict):
            return []
        method, path, status, proof = item.get("method"), item.get("path"), item.get("status"), item.get("proof")
        if method not in METHODS or not is_plain_api_path(path):
            return []
        if status is not None and (type(status) is not int or not 100 <= status <= 599):
            return []
        if not isinstance(proof, str) or not hmac.compare_digest(proof, _proof(item, key)):
            return []
        calls.append({**call(method, path, item.get("sent"), status, item.get("answer")), "reported": True})
    return calls


def is_plain_api_path(path) -> bool:
    """A path of repovizz2's API made of plain segments (letters, digits, ``-._~:%``), no ``.`` or ``..``."""
    return (isinstance(path, str) and bool(_PLAIN_PATH.fullmatch(path))
            and not any(segment in (".", "..") for segment in path.split("/")))


def _literal_value(value: Any) -> Any:
    """`value` with what a Python literal cannot spell (NaN, infinities, other types) made text."""
    if isinstance(value, dict):
        return {str(key): _literal_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_literal_value(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def literal(value: Any) -> str:
    """`value` written as a Python literal (``repr`` quoting): data in the snippet, never code."""
    return pprint.pformat(_literal_value(value), indent=4, width=100, sort_dicts=False)


def _url(path: str, datapack_id: str | None) -> str:
    """The expression for a call's URL: ``BASE`` plus literals (and the ``datapack_id`` variable)."""
    rest = path[len(API):] if path.startswith(API) else path
    here = f"/datapacks/{datapack_id}" if datapack_id else None
    if here and (rest == here or rest.startswith(here + "/")):
        tail = rest[len(here):]
        return "BASE + '/datapacks/' + datapack_id" + (f" + {literal(tail)}" if tail else "")
    return f"BASE + {literal(rest)}"


def python_snippet(calls: list[dict], base_url: str) -> str:
    """The same sequence of calls with `requests`, for a newcomer to run (token left as a placeholder).
    Every value is a Python literal; a call whose path is not a plain API path is left out."""
    lines = [
        "import json",
        "import requests",
        "",
        f"BASE = {literal(base_url.rstrip('/') + API)}",
        "session = requests.Session()",
        "# An access token from repovizz2's OAuth2 login (keep it secret).",
        "session.headers['Authorization'] = 'Bearer YOUR_ACCESS_TOKEN'",
    ]
    datapack_id = None
    for number, made in enumerate(calls, 1):
        method, path, sent, status = made.get("method"), made.get("path"), made.get("sent"), made.get("status")
        if method not in METHODS or not is_plain_api_path(path):
            lines += ["", f"# {number}. (left out: not a plain call to repovizz2's API)"]
            continue
        shown_status = f" -> {status}" if type(status) is int else ""
        lines += ["", f"# {number}. {method} {path}{shown_status}"]
        url = _url(path, datapack_id)
        rest = path[len(API):] if path.startswith(API) else path
        if method == "POST" and rest == "/datapacks" and isinstance(sent, dict):
            lines += [
                "with open('datapack.json') as document:",
                "    structure = json.load(document)",
                f"answer = session.post({url}, json={{'name': {literal(sent.get('name'))}, "
                f"'owner': {literal(sent.get('owner'))}, 'structure': structure}})",
                "answer.raise_for_status()",
            ]
            answer = made.get("answer")
            if type(status) is int and status < 300 and isinstance(answer, dict) \
                    and isinstance(answer.get("item"), dict) and isinstance(answer["item"].get("id"), str):
                datapack_id = answer["item"]["id"]
                lines.append("datapack_id = answer.json()['item']['id']")
        elif method == "POST" and "/content/" in rest:
            link = unquote(path.rsplit("/content/", 1)[1])
            file_info = sent.get("file") if isinstance(sent, dict) else None
            mime = file_info.get("content_type") if isinstance(file_info, dict) else None
            parts = [literal(link.rsplit("/", 1)[-1]), "file"] + ([literal(mime)] if isinstance(mime, str) else [])
            lines += [
                f"with open({literal(link)}, 'rb') as file:  # the file this data node links to",
                f"    answer = session.post({url}, files={{'file': ({', '.join(parts)})}})",
                "print(answer.json())  # {'id': ...}: the node's link is now 'repovizz:<id>'",
            ]
        elif method == "GET" and rest.endswith("/content"):
            lines.append(f"print(json.dumps(session.get({url}).json(), indent=2))  # keyed by each node's link")
        elif method == "GET":
            lines.append(f"print(json.dumps(session.get({url}).json(), indent=2))")
        else:
            body = f", json={literal(sent)}" if sent is not None else ""
            lines.append(f"print(session.request({literal(method)}, {url}{body}).json())")
    return "\n".join(lines) + "\n"


# --- The panel's plain words: a label per call, the listings before and after, a rebuilt upload --------

_CONTENT = re.compile(r"^/api/v1\.0/datapacks/[^/]+/content$")
_SEND = re.compile(r"^/api/v1\.0/datapacks/[^/]+/content/(.+)$")
_DATAPACK = re.compile(r"^/api/v1\.0/datapacks/[^/]+$")


def _is_listing(made: dict) -> bool:
    return made.get("method") == "GET" and bool(_CONTENT.match(made.get("path", "")))


def sent_link(made: dict) -> str | None:
    """The link a file was sent to, for a call that sent one (else None)."""
    found = _SEND.match(made.get("path", "")) if made.get("method") == "POST" else None
    return unquote(found.group(1)) if found else None


def new_reference(made: dict) -> str | None:
    """``repovizz:<id>`` from a file sending's answer ``{"id": …}`` (None for an answer of only "OK")."""
    answer = made.get("answer")
    if isinstance(answer, dict) and isinstance(answer.get("id"), str) and (made.get("status") or 0) < 300:
        return "repovizz:" + answer["id"]
    return None


def labels(calls: list[dict], names: dict[str, str]) -> list[str]:
    """Each call in plain words, numbered: "1. Create the datapack", "3. Send Set-up (setup.png)"…
    `names` gives a data node's name by the link its file was sent to."""
    said, listed = [], 0
    for number, made in enumerate(calls, 1):
        method, path = made.get("method"), made.get("path", "")
        link = sent_link(made)
        if method == "POST" and path == f"{API}/datapacks":
            words = "Create the datapack"
        elif link is not None:
            name = names.get(link)
            words = f"Send {name} ({link})" if name else f"Send the file for {link}"
        elif _is_listing(made):
            words = "List its content: the links still waiting for a file" if not listed \
                else "List its content again: each key is now repovizz:<id>"
            listed += 1
        elif method == "GET" and _DATAPACK.match(path):
            words = "Read the datapack back"
        elif method == "POST" and _DATAPACK.match(path):
            words = "Save the datapack's document"
        elif method == "GET" and path == f"{API}/user":
            words = "Ask who you are (and your datapacks)"
        else:
            words = f"{method} {path}"
        said.append(f"{number}. {words}")
    return said


def listings(calls: list[dict]) -> tuple[dict | None, dict | None]:
    """The numbers of the first and the last content listing, before and after the files were sent
    (None when there are not two)."""
    found = [(number, made) for number, made in enumerate(calls, 1) if _is_listing(made)]
    if len(found) < 2:
        return None, None
    (first, before), (last, after) = found[0], found[-1]
    return {"number": first, "answer": before.get("answer")}, {"number": last, "answer": after.get("answer")}


def rebuilt_upload(original: dict, stored: dict, place_links: list[tuple[str, str, str, str]]) -> list[dict]:
    """The calls that made a datapack, rebuilt from the document it was made from (`original`), what
    repovizz2 holds of it now (`stored`: its id, name, owner) and, per data node, (place, original link,
    name, stored link): create, list the content, send each file that has its ``repovizz:<id>`` now.
    Each is marked ``"rebuilt": True``; no answer is invented beyond what repovizz2 holds."""
    datapack_id = str(stored.get("id", ""))
    here = f"{API}/datapacks/{datapack_id}"
    item = {key: stored.get(key) for key in ("id", "name", "owner", "folder") if key in stored}
    calls = [call("POST", f"{API}/datapacks", {"name": stored.get("name"), "owner": stored.get("owner"),
                                                "structure": original}, 200, {"result": "OK", "item": item})]
    listing = {link: {"class": "data", "link": link, "name": name} for _, link, name, _ in place_links if link}
    calls.append(call("GET", f"{here}/content", None, 200, listing))
    for _, link, _, now in place_links:
        if link and isinstance(now, str) and now.startswith("repovizz:"):
            calls.append(call("POST", f"{here}/content/{quote(link, safe='')}",
                              {"file": {"filename": link.rsplit("/", 1)[-1]}}, 200, {"id": now[len("repovizz:"):]}))
    return [{**made, "rebuilt": True} for made in calls]
