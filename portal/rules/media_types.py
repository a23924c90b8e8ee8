"""What a stored file is to a browser: its media type, how it can be previewed, the name it is
downloaded under and the Content-Disposition that carries that name. Pure: no Flask."""
from __future__ import annotations

import mimetypes
import posixpath
import re
import unicodedata
from urllib.parse import quote

CHART_TYPES = {"application/json", "text/json", "text/csv", "application/csv", "text/tab-separated-values"}
CHART_EXTENSIONS = {".json", ".csv", ".tsv"}
# What a browser may show in place (anything else is always a download): any audio or video type,
# and these types exactly.
INLINE_SAFE_KINDS = ("audio/", "video/")
INLINE_SAFE = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp",
               "text/plain", "text/csv", "application/json", "text/json", "text/tab-separated-values"}
# A stored file shown in a tab must not run anything, even if its type says HTML.
CONTENT_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def base_mime(mime: str) -> str:
    return mime.split(";")[0].strip().lower() if isinstance(mime, str) else ""


_MIME = re.compile(r"[A-Za-z0-9][\w!#$&^.+-]*/[A-Za-z0-9][\w!#$&^.+-]*(?:\s*;[ -~]*)?", re.ASCII)


def header_mime(*candidates) -> str:
    """The first candidate that is a well-formed MIME type (fit for a Content-Type header), else
    ``application/octet-stream``: a document may say anything, even with a newline in it."""
    return next((mime.strip() for mime in candidates if isinstance(mime, str) and _MIME.fullmatch(mime.strip())),
                "application/octet-stream")


def preview_kind(mime: str, name: str = "") -> str:
    """How a file can be looked at: "audio", "video", "image", "chart" (JSON/CSV numbers) or ""."""
    base = base_mime(mime)
    if base.startswith("audio/"):
        return "audio"
    if base.startswith("video/"):
        return "video"
    if base.startswith("image/") and base != "image/svg+xml":
        return "image"
    if base in CHART_TYPES:
        return "chart"
    if not base or base in ("application/octet-stream", "text/plain"):
        if isinstance(name, str) and posixpath.splitext(name)[1].lower() in CHART_EXTENSIONS:
            return "chart"
    return ""


def may_hold_numbers(mime: str) -> bool:
    """Whether a file of this type may be a table of numbers worth a look (its content decides): no
    type, an unknown one, text of any kind, JSON or CSV; never audio, video, images or other known kinds."""
    base = base_mime(mime)
    return (not base or base == "application/octet-stream" or base.startswith("text/")
            or re.search(r"json|csv|tab-separated", base) is not None)


def extension_for(mime: str) -> str:
    base = base_mime(mime)
    preferred = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "text/plain": ".txt",
                 "image/jpeg": ".jpg", "application/json": ".json", "text/csv": ".csv"}
    return preferred.get(base) or (mimetypes.guess_extension(base) if base else None) or ""


def safe_filename(name: str) -> str:
    """A file name for Content-Disposition: no folders, no control characters, no quotes."""
    name = posixpath.basename(name.replace("\\", "/")) if isinstance(name, str) else ""
    name = "".join(ch for ch in name if ord(ch) >= 32 and ch not in '"').strip().strip(".")
    return name[:200]


def download_name(node_name: str, mime: str, original: str = "") -> str:
    """The original file name when repovizz2 tells it, else the node's name plus an extension from its type."""
    original = safe_filename(original)
    if original:
        return original
    base = safe_filename(node_name) or "file"
    extension = extension_for(mime)
    return base if not extension or base.lower().endswith(extension) else base + extension


def inline_allowed(mime: str) -> bool:
    """Whether a browser may be asked to show a file of this type in place."""
    base = base_mime(mime)
    return base.startswith(INLINE_SAFE_KINDS) or base in INLINE_SAFE


_BASE_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", re.ASCII)


def served_type(mime: str, inline_wanted: bool) -> tuple[str, bool]:
    """The Content-Type a stored file is sent with, and whether it is shown in place.

    Only the base media type is sent, never the parameters a document gave it: a value like
    ``text/plain; x=1,text/html`` reads to some browsers as a list whose last type wins. In place only
    when asked for and the base type is on the allow-list; anything malformed is bytes to download."""
    base = base_mime(mime)
    if not _BASE_TYPE.fullmatch(base):
        return "application/octet-stream", False
    return base, bool(inline_wanted) and inline_allowed(base)


def content_disposition(kind: str, filename: str) -> str:
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9 ._()+-]", "_", fallback).strip() or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"



