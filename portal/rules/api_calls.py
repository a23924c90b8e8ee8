"""The calls the portal made to repovizz2 during one upload, as the result page's "What happened in
repovizz2" panel shows them (`PORTAL_SHOW_API_CALLS`): each call's method, path, the JSON sent and
the answer, shortened to what a person reads; the same sequence as a Python snippet; and the calls a
browser reports back after sending the files itself, checked and labelled as reported.

A call is a dict: ``{"method", "path", "sent", "status", "answer"}`` (plus ``"reported": True`` for
those that came from the browser). No header is ever kept, so no token can reach the page.
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

API = "/api/v1.0"
MAX_STRING = 160          # characters of a string kept before "…"
MAX_ITEMS = 6             # items of a list (keys of an object) kept before "… n more"
MAX_DEPTH = 6             # levels of nesting kept
MAX_REPORTED_BYTES = 1024 * 1024   # about 4000 file calls; the result form takes 4 MiB a field
MAX_REPORTED_CALLS = 5000
METHODS = ("GET", "POST", "PUT", "DELETE")
_PATH = re.compile(r"^/api/[\x21-\x7e]{1,500}$")


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


def from_browser(raw: str | None) -> list[dict]:
    """The calls a browser posts back with the result form (its JSON text), checked: a list of at
    most MAX_REPORTED_CALLS calls, each with a known method and a repovizz2 API path, its JSON
    shortened again. Anything else — too large, not JSON, a wrong shape — gives an empty list."""
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
        method, path, status = item.get("method"), item.get("path"), item.get("status")
        if method not in METHODS or not isinstance(path, str) or not _PATH.match(path):
            return []
        if status is not None and (type(status) is not int or not 100 <= status <= 599):
            return []
        calls.append({**call(method, path, item.get("sent"), status, item.get("answer")), "reported": True})
    return calls


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=4, ensure_ascii=False)


def _datapack_path(path: str, datapack_id: str | None) -> str:
    """The path after the API prefix, the datapack's id replaced by the snippet's variable."""
    rest = path[len(API):] if path.startswith(API) else path
    rest = rest.replace("{", "{{").replace("}", "}}")  # the path goes into an f-string
    if datapack_id:
        rest = rest.replace(f"/datapacks/{datapack_id}", "/datapacks/{datapack_id}")
    return rest


def python_snippet(calls: list[dict], base_url: str) -> str:
    """The same sequence of calls with `requests`, for a newcomer to run (token left as a placeholder)."""
    lines = [
        "import json",
        "import requests",
        "",
        f'BASE = "{base_url.rstrip("/")}{API}"',
        "session = requests.Session()",
        "# An access token from repovizz2's OAuth2 login (keep it secret).",
        'session.headers["Authorization"] = "Bearer YOUR_ACCESS_TOKEN"',
    ]
    datapack_id = None
    for number, made in enumerate(calls, 1):
        method, path, sent = made["method"], made["path"], made.get("sent")
        lines += ["", f"# {number}. {method} {path}" + (f" -> {made['status']}" if made.get("status") else "")]
        rest = _datapack_path(path, datapack_id)
        url = f'f"{{BASE}}{rest}"'
        if method == "POST" and rest == "/datapacks" and isinstance(sent, dict):
            lines += [
                'with open("datapack.json") as document:',
                "    structure = json.load(document)",
                f"answer = session.post({url}, json={{\"name\": {json.dumps(sent.get('name'))}, "
                f"\"owner\": {json.dumps(sent.get('owner'))}, \"structure\": structure}})",
                "answer.raise_for_status()",
            ]
            answer = made.get("answer")
            if made.get("status") and made["status"] < 300 and isinstance(answer, dict) \
                    and isinstance(answer.get("item"), dict) and isinstance(answer["item"].get("id"), str):
                datapack_id = answer["item"]["id"]
                lines.append('datapack_id = answer.json()["item"]["id"]')
        elif method == "POST" and "/content/" in rest:
            link = unquote(path.rsplit("/content/", 1)[1])
            file_info = (sent or {}).get("file") if isinstance(sent, dict) else None
            mime = file_info.get("content_type") if isinstance(file_info, dict) else None
            filename = link.rsplit("/", 1)[-1]
            lines += [
                f"with open({json.dumps(link)}, \"rb\") as file:  # the file this data node links to",
                f"    answer = session.post({url}, files={{\"file\": ({json.dumps(filename)}, file"
                + (f", {json.dumps(mime)}" if mime else "") + ")})",
                "print(answer.json())  # {\"id\": ...}: the node's link is now \"repovizz:<id>\"",
            ]
        elif method == "GET" and rest.endswith("/content"):
            lines.append(f"print(json.dumps(session.get({url}).json(), indent=2))  # keyed by each node's link")
        elif method == "GET":
            lines.append(f"print(json.dumps(session.get({url}).json(), indent=2))")
        else:
            body = f", json={_pretty(sent)}" if sent is not None else ""
            lines.append(f"print(session.request({json.dumps(method)}, {url}{body}).json())")
    return "\n".join(lines) + "\n"
