"""A stored file streamed back from repovizz2 to the browser, chunk by chunk (constant memory): the
node it belongs to found first, a byte range passed on (a seeking video), the type and name it is
sent with decided by the media-type rules."""
from __future__ import annotations

import re

from flask import Response, abort
from werkzeug.http import parse_options_header

from ..rules.datapack_tree import UPLOADED_PREFIX, reference_id, walk_data_nodes
from ..rules.media_types import CONTENT_CSP, content_disposition, download_name, header_mime, served_type
from .login import Login

CHUNK_SIZE = 64 * 1024
# A Range header worth passing on: byte ranges only, a handful of them (a seeking video asks for one).
_BYTE_RANGES = re.compile(r"bytes=\s*(\d*-\d*)(\s*,\s*\d*-\d*){0,7}\s*")


def stored_file(login: Login, datapack_id: str, file_id: str, byte_range: str = "", *, inline: bool = False) -> Response:
    """The answer that streams the file `file_id` of the datapack (404 when no node of it has that
    file); `inline` asks to show it in the page, which only types from an allow-list are."""
    file_id = file_id.removeprefix(UPLOADED_PREFIX)
    client = login.client()
    document = client.datapack(datapack_id).get("structure") or {}
    node = next((node for node in walk_data_nodes(document) if file_id and reference_id(node.link) == file_id), None)
    if node is None:
        abort(404, "This datapack has no file with that id.")
    upstream = client.open_asset(datapack_id, file_id, byte_range if _BYTE_RANGES.fullmatch(byte_range) else None)
    try:
        return _stream(upstream, header_mime(node.mime, upstream.headers.get("Content-Type")), node.name, inline)
    except BaseException:
        upstream.close()  # once the answer exists, closing it closes upstream (also when the client goes away)
        raise


def _upstream_filename(headers) -> str:
    value = headers.get("Content-Disposition")
    if not value:
        return ""
    _, options = parse_options_header(value)
    return options.get("filename") or ""


def _stream(upstream, mime: str, node_name: str, inline: bool) -> Response:
    name = download_name(node_name, mime, _upstream_filename(upstream.headers))
    content_type, inline = served_type(mime, inline)

    def chunks():
        try:
            for chunk in upstream.iter_content(CHUNK_SIZE):
                if chunk:
                    yield chunk
        finally:
            upstream.close()

    response = Response(chunks(), status=upstream.status_code if upstream.status_code == 206 else 200,
                        content_type=content_type, direct_passthrough=True)
    response.call_on_close(upstream.close)
    length = upstream.headers.get("Content-Length")
    if length and length.isdigit() and not upstream.headers.get("Content-Encoding"):
        response.headers["Content-Length"] = length
    # Seeking a video needs ranges: say what repovizz2 said (a 200 to a range is passed on as it is).
    for header in ("Content-Range", "Accept-Ranges"):
        if upstream.headers.get(header) and (header != "Content-Range" or response.status_code == 206):
            response.headers[header] = upstream.headers[header]
    response.headers["Content-Disposition"] = content_disposition("inline" if inline else "attachment", name)
    response.headers["Content-Security-Policy"] = CONTENT_CSP
    response.headers["Cache-Control"] = "private, max-age=3600"  # a file id never changes its bytes
    return response
