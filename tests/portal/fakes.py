"""A small in-memory repovizz2 behind `responses`, for the view tests: it keeps the document
and rewrites links on upload like the real service (posting again to ``repovizz:<id>`` replaces the
file), renames and replaces structures, serves stored files back, and records every call.

It is an OAuth2 provider too, as the sandbox is: it approves a login (`authorize`), exchanges the code
(checking the PKCE verifier), renews a token once per refresh token (rotating it), revokes a whole grant
(RFC 7009), and answers every API call whose bearer token it did not issue, or has expired or revoked,
with the documented 401. A test switches a fault on by name (`fail`): an endpoint answering a status or a
body of its own, or a connection that is refused, times out or breaks off.

It takes none of the portal's rules: a structure is checked by the sandbox's own reading of the public
schema (`sandbox.schema`, written apart from the portal), so a test passes only where the two agree."""
from __future__ import annotations

import base64
import hashlib
import io
import json
import mimetypes
import re
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import requests
import responses
from werkzeug.formparser import parse_form_data

from sandbox.schema import document_problems
from tests.portal.samples import REPOVIZZ2, USER

API = f"{REPOVIZZ2}/api/v1.0"


def _stored(structure):
    """A copy of a structure as JSON keeps it (however deep: no recursion)."""
    if not isinstance(structure, (dict, list)):
        return structure
    root = {} if isinstance(structure, dict) else []
    stack = [(structure, root)]
    while stack:
        source, target = stack.pop()
        for key, child in (source.items() if isinstance(source, dict) else enumerate(source)):
            if isinstance(child, (dict, list)):
                child_copy = {} if isinstance(child, dict) else []
                stack.append((child, child_copy))
                child = child_copy
            if isinstance(target, dict):
                target[key] = child
            else:
                target.append(child)
    return root


def _json_answer(value) -> str:
    """The answer's JSON text, ASCII-only as repovizz2 writes it; deeper than `json` writes, the tests'
    own iterative writer."""
    try:
        return json.dumps(value, ensure_ascii=True)
    except RecursionError:
        return _iterative_json(value)


def _iterative_json(value) -> str:
    parts, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            parts.append(item.text)
        elif isinstance(item, dict):
            pieces = [_Raw("{")]
            for index, (key, child) in enumerate(item.items()):
                pieces += [_Raw(("," if index else "") + json.dumps(key) + ":"), child]
            stack.extend(reversed(pieces + [_Raw("}")]))
        elif isinstance(item, list):
            pieces = [_Raw("[")]
            for index, child in enumerate(item):
                pieces += ([_Raw(",")] if index else []) + [child]
            stack.extend(reversed(pieces + [_Raw("]")]))
        else:
            parts.append(json.dumps(item))
    return "".join(parts)


class _Raw:
    def __init__(self, text: str):
        self.text = text


class MadeFile:
    """A stored file of `size` bytes made as it is read, never held whole (tens of megabytes cost nothing):
    each download's reader is kept, to see how far it was read and whether it was closed."""

    def __init__(self, size: int, byte: bytes = b"x"):
        self.size, self.byte, self.readers = size, byte, []

    def __len__(self) -> int:
        return self.size

    def open(self, start: int, end: int) -> io.BufferedReader:
        reader = _MadeReader(self.byte, end - start + 1)
        self.readers.append(reader)
        return io.BufferedReader(reader)


class _MadeReader(io.RawIOBase):
    def __init__(self, byte: bytes, size: int):
        self.byte, self.left, self.given = byte, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = self.byte * count
        self.left -= count
        self.given += count
        return count


_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")


def _served_type(structure, file_id: str, uploaded_as: str) -> str:
    """The Content-Type a download gets, as the sandbox picks it: the type of the node holding the file
    (without parameters) when it is one, else a guess from the name it was uploaded under."""
    stack = [structure]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if node.get("link") == f"repovizz:{file_id}":
            meta = node.get("meta")
            mime = node.get("mime") or (meta.get("mime") if isinstance(meta, dict) else None)
            base = mime.split(";")[0].strip() if isinstance(mime, str) else ""
            if _MEDIA_TYPE.fullmatch(base):
                return base
            break
        if isinstance(node.get("children"), list):
            stack.extend(node["children"])
    return mimetypes.guess_type(uploaded_as)[0] or "application/octet-stream"


def _walk(nodes):
    for node in nodes:
        if node.get("class") == "data":
            yield node
        yield from _walk(node.get("children", []))


def _file_part(request) -> bytes:
    # Each chunk taken as it comes, as a socket would: the streamed body may reuse one buffer.
    raw = request.body if isinstance(request.body, bytes) else b"".join(bytes(chunk) for chunk in request.body)
    environ = {"wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw)),
               "CONTENT_TYPE": request.headers["Content-Type"], "REQUEST_METHOD": "POST"}
    _, _, uploaded = parse_form_data(environ)
    (storage,) = uploaded.values()
    return storage.read()


UNAUTHORIZED = {"error": "You are unauthorized to make this request."}  # the API documentation's 401 body
CLIENT = ("portal-id", "portal-secret")  # the client registered for the tests' portal (conftest.TEST_CONFIG)

# Named faults: what `requests` raises when the connection does not give a whole answer.
BROKEN = {
    "unreachable": lambda: requests.ConnectionError("connection refused"),
    "timeout": lambda: requests.ReadTimeout("no answer in time"),
    "cut": lambda: requests.exceptions.ChunkedEncodingError("connection broken mid-answer"),
    "bad-gzip": lambda: requests.exceptions.ContentDecodingError("the answer's gzip is broken"),
    "redirect-loop": lambda: requests.exceptions.TooManyRedirects("redirected in a loop"),
}


@dataclass
class Fault:
    """An endpoint's answer instead of its own: a status and body, or a broken connection (`BROKEN`)."""
    status: int | str
    body: str | bytes | MadeFile
    content_type: str
    times: int | None  # None: every time
    only: str | None  # only for calls whose last path segment (a datapack id, a link) is this


@dataclass
class Grant:
    """One login's tokens: what a code exchange made and each refresh renewed."""
    user: dict
    access_tokens: set
    expired: set
    refresh_token: str | None


class FakeRepovizz2:
    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock
        self.datapacks: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.file_datapack: dict[str, str] = {}  # file id -> the datapack it belongs to
        self.file_names: dict[str, str] = {}  # file id -> the link it was first uploaded under
        self.ranges = True  # answer Range requests with 206, as the sandbox does
        self.upload_answer = "id"  # or "result-ok": answer an upload with {"result": "OK"} only
        self.faults: dict[str, list[Fault]] = {}
        self.during: dict[str, object] = {}  # endpoint -> called with the request while it is answered
        self.log: list[tuple[str, object, int]] = []  # (endpoint, request, thread) of every call, in order
        self.at_once = self.most_at_once = 0
        self._lock = threading.Lock()
        self.grants: list[Grant] = []
        self.codes: dict[str, dict] = {}
        self.issued = 1
        self.issue("access-1", "refresh-1")  # the login `auth.login()` and `samples.log_in` put in the session
        routes = [
            ("token", responses.POST, f"{REPOVIZZ2}/oauth/token", self._token, False),
            ("revoke", responses.POST, f"{REPOVIZZ2}/oauth/revoke", self._revoke, False),
            ("user", responses.GET, f"{API}/user", self._user, True),
            ("create", responses.POST, f"{API}/datapacks", self._create, True),
            ("datapack", responses.GET, re.compile(rf"{API}/datapacks/[^/]+$"), self._get, True),
            ("content", responses.GET, re.compile(rf"{API}/datapacks/[^/]+/content$"), self._content, True),
            ("upload", responses.POST, re.compile(rf"{API}/datapacks/[^/]+/content/.+"), self._upload, True),
            ("update", responses.POST, re.compile(rf"{API}/datapacks/[^/]+$"), self._update, True),
            ("download", responses.GET, re.compile(rf"{API}/datapacks/[^/]+/content/.+"), self._download, True),
            ("download", responses.HEAD, re.compile(rf"{API}/datapacks/[^/]+/content/.+"), self._head, True),
        ]
        for endpoint, method, url, answer, needs_token in routes:
            mock.add_callback(method, url, callback=self._serving(endpoint, answer, needs_token))

    # -- what a test sets -------------------------------------------------------------------------------

    def fail(self, endpoint: str, status: int | str, *, error: str | None = None, json_body=None,
             body: str | bytes | MadeFile | None = None, times: int | None = None, only: str | None = None) -> None:
        """From now on `endpoint` answers `status` (or breaks, for a name in BROKEN), with `{"error": error}`,
        `json_body` or the raw `body` (a MadeFile for one too large to hold); `times` times, or always; for
        calls about `only` (a datapack id, a link), or every call."""
        content_type = "text/plain"
        if body is None:
            if json_body is None:
                json_body = UNAUTHORIZED if status == 401 and error is None else {"error": error or "failed"}
            body, content_type = json.dumps(json_body), "application/json"
        self.faults.setdefault(endpoint, []).append(Fault(status, body, content_type, times, only))

    def mend(self, endpoint: str) -> None:
        """`endpoint` answers as itself again."""
        self.faults.pop(endpoint, None)

    def store(self, datapack_id: str, name: str, structure, owner="u-1") -> str:
        """A datapack repovizz2 already holds (whatever its structure), listed last in `GET /user`."""
        self.datapacks[datapack_id] = {"id": datapack_id, "name": name, "owner": owner, "folder": None,
                                       "structure": structure, "group_edit_permissions": []}
        return datapack_id

    def store_file(self, datapack_id: str, file_id: str, data: bytes, uploaded_as: str | None = None) -> None:
        """A file repovizz2 holds for the datapack, served at ``content/<file_id>``."""
        self.files[file_id] = data
        self.file_datapack[file_id] = datapack_id
        self.file_names[file_id] = uploaded_as or file_id

    def issue(self, access_token: str, refresh_token: str | None = None, user: dict | None = None) -> None:
        """A token repovizz2 gave out for `user` (a login made before the test, or a script's token)."""
        self.grants.append(Grant(user or USER, {access_token}, set(), refresh_token))

    def expire(self, access_token: str) -> None:
        """The token's time is up at repovizz2 (whatever its holder believes)."""
        self._grant_of(access_token).expired.add(access_token)

    def revoke(self, token: str) -> None:
        """The login the token belongs to ends at repovizz2: every token of it (RFC 7009 lets it)."""
        self.grants.remove(self._grant_of(token) or self._grant_of_refresh(token))

    def authorize(self, location: str, user: dict | None = None) -> str:
        """What repovizz2's authorize page sends the browser back to once the user allowed the portal at
        `location` (the portal's redirect): its callback, with a new code and the state it was given."""
        query = {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
        assert query["client_id"] == CLIENT[0] and query["response_type"] == "code"
        code = f"code-{len(self.codes) + 1}"
        self.codes[code] = {"user": user or USER, "redirect_uri": query["redirect_uri"],
                            "challenge": query.get("code_challenge")}
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def serve_revocation_at(self, url: str) -> None:
        """Revoke at `url` too (a deployment whose revocation endpoint lives elsewhere)."""
        self.mock.add_callback(responses.POST, url, callback=self._serving("revoke", self._revoke, False))

    def calls_to(self, endpoint: str) -> list:
        """The requests `endpoint` received, in order."""
        return [request for name, request, _ in self.log if name == endpoint]

    def tokens_sent_to(self, endpoint: str) -> list[str]:
        return [request.headers.get("Authorization", "") for request in self.calls_to(endpoint)]

    @property
    def creates(self) -> int:
        return len(self.calls_to("create"))

    @property
    def uploads(self) -> list[str]:
        """The link of every file posted, in order."""
        return [unquote(request.url.rsplit("/", 1)[-1]) for request in self.calls_to("upload")]

    @property
    def updates(self) -> list[dict]:
        """The bodies of every rename / structure update, in order."""
        return [json.loads(request.body) for request in self.calls_to("update")]

    # -- how every call is answered ---------------------------------------------------------------------

    def _serving(self, endpoint, answer, needs_token):
        def callback(request):
            with self._lock:
                self.log.append((endpoint, request, threading.get_ident()))
                self.at_once += 1
                self.most_at_once = max(self.most_at_once, self.at_once)
            try:
                if endpoint in self.during:
                    self.during[endpoint](request)
                fault = self._fault(endpoint, request)
                if fault is not None:
                    if isinstance(fault.status, str):
                        return 200, {}, BROKEN[fault.status]()
                    body = fault.body.open(0, len(fault.body) - 1) if isinstance(fault.body, MadeFile) else fault.body
                    return fault.status, {"Content-Type": fault.content_type}, body
                if needs_token and self._user_of(request) is None:
                    return 401, {"Content-Type": "application/json"}, json.dumps(UNAUTHORIZED)
                status, headers, body = answer(request)
                return status, {"Content-Type": "application/json", **headers}, body
            finally:
                with self._lock:
                    self.at_once -= 1
        return callback

    def _fault(self, endpoint, request):
        segment = unquote(urlsplit(request.url).path.rsplit("/", 1)[-1])
        with self._lock:
            for fault in self.faults.get(endpoint, []):
                if fault.only is None or fault.only == segment:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times == 0:
                            self.faults[endpoint].remove(fault)
                    return fault
        return None

    def _grant_of(self, access_token):
        return next((grant for grant in self.grants if access_token in grant.access_tokens), None)

    def _grant_of_refresh(self, refresh_token):
        return next((grant for grant in self.grants if refresh_token and grant.refresh_token == refresh_token), None)

    def _user_of(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        grant = self._grant_of(token) if scheme == "Bearer" else None
        return grant.user if grant is not None and token not in grant.expired else None

    def _client_of(self, request) -> tuple[tuple, dict]:
        """The client's id and secret (HTTP Basic or in the form) and the form it posted."""
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        form = {key: values[0] for key, values in parse_qs(body).items()}
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Basic":
            return tuple(base64.b64decode(credentials).decode().split(":", 1)), form
        return (form.get("client_id"), form.get("client_secret")), form

    def _new_tokens(self, grant) -> dict:
        self.issued += 1
        access_token, refresh_token = f"access-{self.issued}", f"refresh-{self.issued}"
        grant.access_tokens.add(access_token)
        grant.refresh_token = refresh_token
        return {"access_token": access_token, "expires_in": 3600, "refresh_token": refresh_token,
                "scope": "basic", "token_type": "Bearer"}

    def _token(self, request):
        """Authlib's token endpoint as the sandbox runs it: code exchange with PKCE, rotating refresh."""
        client, form = self._client_of(request)
        if client != CLIENT:
            return 401, {}, json.dumps({"error": "invalid_client"})
        if form.get("grant_type") == "authorization_code":
            code = self.codes.pop(form.get("code"), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if code is None or code["redirect_uri"] != form.get("redirect_uri") or code["challenge"] != challenge:
                return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "Invalid 'code' in request."})
            grant = Grant(code["user"], set(), set(), None)
            self.grants.append(grant)
            return 200, {}, json.dumps(self._new_tokens(grant))
        if form.get("grant_type") == "refresh_token":
            grant = self._grant_of_refresh(form.get("refresh_token"))
            if grant is None:
                return 400, {}, json.dumps({"error": "invalid_grant"})
            return 200, {}, json.dumps(self._new_tokens(grant))
        return 400, {}, json.dumps({"error": "unsupported_grant_type"})

    def _revoke(self, request):
        client, form = self._client_of(request)
        if client != CLIENT:
            return 401, {}, json.dumps({"error": "invalid_client"})
        token = form.get("token")
        grant = self._grant_of(token) or self._grant_of_refresh(token)
        if grant is not None:
            self.grants.remove(grant)
        return 200, {}, "{}"

    def _user(self, request):
        return 200, {}, json.dumps({**self._user_of(request), "datapacks": list(self.datapacks)})

    def _create(self, request):
        body = json.loads(request.body)
        problems = document_problems(body["structure"])
        if problems:
            return 422, {}, json.dumps({"error": "; ".join(problems)})
        for item in self.datapacks.values():
            if item["name"] == body["name"]:
                return 409, {}, json.dumps({"error": f"Datapack {body['name']} already exists with id ({item['id']})"})
        datapack_id = str(uuid.uuid4())
        item = {"id": datapack_id, "name": body["name"], "owner": body["owner"], "folder": None,
                "structure": _stored(body["structure"]), "group_edit_permissions": []}
        self.datapacks[datapack_id] = item
        return 200, {}, _json_answer({"result": "OK", "item": item})

    def _item(self, request):
        datapack_id = unquote(request.url.split("/datapacks/")[1].split("/")[0])
        return self.datapacks.get(datapack_id)

    def _get(self, request):
        item = self._item(request)
        if item is None:
            return 404, {}, json.dumps({"error": "Datapack not found"})
        return 200, {}, _json_answer(item)  # whatever it holds, however deep

    def _content(self, request):
        item = self._item(request)
        listing = {node["link"]: {"class": "data", "link": node["link"], "mime": node.get("mime", ""),
                                  "name": node["name"], "text": node["text"]} for node in _walk(item["structure"]["children"])}
        return 200, {}, json.dumps(listing)

    def _upload(self, request):
        item = self._item(request)
        if item is None:
            return 404, {}, json.dumps({"error": "Datapack not found"})
        link = unquote(request.url.split("/content/", 1)[1])
        body = _file_part(request)
        for node in _walk(item["structure"]["children"]):
            if node["link"] == link:
                file_id = uuid.uuid4().hex + "abcdefgh"
                self.files[file_id] = body
                self.file_datapack[file_id] = item["id"]
                self.file_names[file_id] = self.file_names.get(link.removeprefix("repovizz:"), link)
                node["link"] = "repovizz:" + file_id
                if self.upload_answer == "result-ok":
                    return 200, {}, json.dumps({"result": "OK"})
                return 200, {}, json.dumps({"id": file_id})
        return 404, {}, json.dumps({"error": f"No data node with link {link}"})

    def _update(self, request):
        item = self._item(request)
        if item is None:
            return 404, {}, json.dumps({"error": "Datapack not found"})
        body = json.loads(request.body)
        if "name" in body:
            for other in self.datapacks.values():
                if other is not item and other["name"] == body["name"]:
                    return 409, {}, json.dumps({"error": f"Datapack {body['name']} already exists with id ({other['id']})"})
        if "structure" in body:
            problems = document_problems(body["structure"])  # the public schema: what repovizz2 accepts
            if problems:
                return 422, {}, json.dumps({"error": "; ".join(problems)})
            item["structure"] = _stored(body["structure"])
        if "name" in body:
            item["name"] = body["name"]
        return 200, {}, json.dumps({"result": "OK"})

    def _head(self, request):
        status, headers, body = self._download(request)
        if hasattr(body, "close"):
            body.close()
        return status, headers, b""

    def _download(self, request):
        item = self._item(request)
        file_id = unquote(request.url.split("/content/", 1)[1]).removeprefix("repovizz:")
        if item is None or self.file_datapack.get(file_id) != item["id"]:
            return 404, {}, json.dumps({"error": "File not found"})
        name = self.file_names.get(file_id, file_id).rsplit("/", 1)[-1]
        body = self.files[file_id]
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Accept-Ranges": "bytes",
                   "Content-Type": _served_type(item["structure"], file_id, name)}
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("Range", ""))
        if wanted and self.ranges:
            start = int(wanted.group(1))
            end = min(int(wanted.group(2) or len(body) - 1), len(body) - 1)
            headers.update({"Content-Range": f"bytes {start}-{end}/{len(body)}", "Content-Length": str(end - start + 1)})
            return 206, headers, body.open(start, end) if isinstance(body, MadeFile) else body[start:end + 1]
        headers["Content-Length"] = str(len(body))
        return 200, headers, body.open(0, len(body) - 1) if isinstance(body, MadeFile) else body
