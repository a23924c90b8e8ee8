"""A small in-memory repovizz2 behind `responses`, for the view tests: it keeps the document
and rewrites links on upload like the real service (posting again to ``repovizz:<id>`` replaces the
file), renames and replaces structures, serves stored files back, and records every call.

It takes none of the portal's rules: a structure is checked by the sandbox's own reading of the public
schema (`sandbox.schema`, written apart from the portal), so a test passes only where the two agree."""
from __future__ import annotations

import io
import json
import re
import uuid
from urllib.parse import unquote

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


class FakeRepovizz2:
    def __init__(self, mock: responses.RequestsMock):
        self.mock = mock
        self.datapacks: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.fail_upload: dict[str, int] = {}  # link -> status to answer instead
        self.fail_upload_once: dict[str, int] = {}  # the same, for the first try only
        self.file_datapack: dict[str, str] = {}  # file id -> the datapack it belongs to
        self.file_names: dict[str, str] = {}  # file id -> the link it was first uploaded under
        self.ranges = True  # answer Range requests with 206, as the sandbox does
        self.upload_answer = "id"  # or "result-ok": answer an upload with {"result": "OK"} only
        mock.add_callback(responses.GET, f"{API}/user", callback=self._user)
        mock.add_callback(responses.POST, f"{API}/datapacks", callback=self._create)
        mock.add_callback(responses.GET, re.compile(rf"{API}/datapacks/[^/]+$"), callback=self._get)
        mock.add_callback(responses.GET, re.compile(rf"{API}/datapacks/[^/]+/content$"), callback=self._content)
        mock.add_callback(responses.POST, re.compile(rf"{API}/datapacks/[^/]+/content/.+"), callback=self._upload)
        mock.add_callback(responses.POST, re.compile(rf"{API}/datapacks/[^/]+$"), callback=self._update)
        mock.add_callback(responses.GET, re.compile(rf"{API}/datapacks/[^/]+/content/.+"), callback=self._download)
        mock.add_callback(responses.HEAD, re.compile(rf"{API}/datapacks/[^/]+/content/.+"), callback=self._head)

    @property
    def creates(self) -> int:
        return sum(1 for call in self.mock.calls if call.request.method == "POST" and call.request.url == f"{API}/datapacks")

    @property
    def uploads(self) -> list[str]:
        return [unquote(call.request.url.rsplit("/", 1)[-1]) for call in self.mock.calls
                if call.request.method == "POST" and "/content/" in call.request.url]

    def _user(self, request):
        return 200, {}, json.dumps({**USER, "datapacks": list(self.datapacks)})

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
        link = unquote(request.url.split("/content/", 1)[1])
        if link in self.fail_upload:
            return self.fail_upload[link], {}, json.dumps({"error": "boom"})
        if link in self.fail_upload_once:
            return self.fail_upload_once.pop(link), {}, json.dumps({"error": "invalid_token",
                                                                     "error_description": "the token expired"})
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

    @property
    def updates(self) -> list[dict]:
        """The bodies of every rename / structure update, in order."""
        return [json.loads(call.request.body) for call in self.mock.calls
                if call.request.method == "POST" and re.search(r"/datapacks/[^/]+$", call.request.url)]

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
        status, headers, _ = self._download(request)
        return status, headers, b""

    def _download(self, request):
        item = self._item(request)
        file_id = unquote(request.url.split("/content/", 1)[1]).removeprefix("repovizz:")
        if item is None or self.file_datapack.get(file_id) != item["id"]:
            return 404, {}, json.dumps({"error": "File not found"})
        name = self.file_names.get(file_id, file_id).rsplit("/", 1)[-1]
        body = self.files[file_id]
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Accept-Ranges": "bytes"}
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("Range", ""))
        if wanted and self.ranges:
            start = int(wanted.group(1))
            end = min(int(wanted.group(2) or len(body) - 1), len(body) - 1)
            headers.update({"Content-Range": f"bytes {start}-{end}/{len(body)}", "Content-Length": str(end - start + 1)})
            return 206, headers, body[start:end + 1]
        headers["Content-Length"] = str(len(body))
        return 200, headers, body
