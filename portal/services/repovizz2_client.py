"""The one place that knows repovizz2's URLs and error shapes: a thin client over a requests session.

Signing calls with the user's token, renewing it and retrying after a 401 is the login's job
(portal/services/login.py); this module turns every answer or failure into the project's exceptions
(portal/rules/errors.py).
"""
from __future__ import annotations

import re
from typing import BinaryIO
from urllib.parse import quote

import requests
from authlib.integrations.base_client import OAuthError
from werkzeug.http import parse_options_header

from ..rules import api_calls
from ..rules.datapack_tree import UPLOADED_PREFIX
from ..rules.errors import Forbidden, NameTaken, NotAuthorized, NotFound, Rejected, Repovizz2Error, ServerError, \
    TimedOut, Unreachable
from .body_relay import multipart_body

API = "/api/v1.0"
# repovizz2's answers other than stored files are read whole, so at most this much of one is read: a
# document far larger than any the portal creates (MAX_JSON_KB), and still a bounded amount of memory.
MAX_ANSWER_BYTES = 32 * 1024 * 1024


class AnswerTooLarge(requests.RequestException):
    """An answer (not a stored file) longer than MAX_ANSWER_BYTES: left unread past that."""


def read_bounded(response: requests.Response, *_args, stream: bool = False, **_kwargs) -> requests.Response:
    """A requests response hook (`bound_answers`): an answer asked for whole (not `stream`), or any error
    answer, is read here, at most MAX_ANSWER_BYTES of it, before requests would read it whole; the
    bytes are kept where requests keeps them (``response.content``)."""
    if stream and response.status_code < 400:
        return response
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            response.close()
            raise AnswerTooLarge(response=response)
    response._content = bytes(body)
    return response


def bound_answers(http: requests.Session) -> None:
    """Every answer `http` gets is read bounded (`read_bounded`): the calls to the API, token renewals
    and revocations alike."""
    http.hooks["response"].append(read_bounded)


_BY_STATUS = {401: NotAuthorized, 403: Forbidden, 404: NotFound, 409: NameTaken, 422: Rejected}


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return f"{body['error']}: {description}" if isinstance(description, str) and description else body["error"]
    return f"repovizz2 answered {response.status_code} {response.reason or ''}".strip()


def error_for(response: requests.Response, **about) -> Repovizz2Error:
    """The project's exception for an unsuccessful repovizz2 answer (`about`: its datapack_id and link)."""
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else Repovizz2Error
    return cls(_error_message(response), response.status_code, **about)


def quote_link(link: str) -> str:
    """A link as one URL path segment: every '/', '?', '#', '%' and space encoded, and a link of
    only dots encoded too, or clients would resolve it as '.' or '..' and reach another path."""
    quoted = quote(link, safe="")
    return quoted.replace(".", "%2E") if set(link) == {"."} else quoted


class Repovizz2Client:
    """Thin client over a requests session (portal/services/login.py signs it); every call has a timeout."""

    def __init__(self, http: requests.Session, base_url: str, timeout: float | tuple = (5, 60)):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.calls: list[dict] | None = None  # the calls made, once record_calls() is on

    def record_calls(self) -> list[dict]:
        """From now on, keep each call's method, path, JSON sent and answer (never a header, so never
        a token) in ``self.calls``, for the result page's "What happened in repovizz2" panel."""
        if self.calls is None:
            self.calls = []
        return self.calls

    def _send(self, method: str, path: str, sent, kwargs: dict) -> requests.Response:
        """The request itself, recorded when recording is on (a streamed answer's body is not read)."""
        if self.calls is None:
            return self.http.request(method, self.base_url + path, **kwargs)
        sent = kwargs.get("json") if sent is None else sent
        try:
            response = self.http.request(method, self.base_url + path, **kwargs)
        except BaseException as exc:
            self.calls.append(api_calls.call(method, path, sent, None, f"no answer ({type(exc).__name__})"))
            raise
        answer = "(a file, streamed back)"
        if not kwargs.get("stream"):
            try:
                answer = response.json()
            except ValueError:
                answer = response.text[:200] or None
        self.calls.append(api_calls.call(method, path, sent, response.status_code, answer))
        return response

    def _call(self, method: str, path: str, *, datapack_id: str | None = None, link: str | None = None,
              sent=None, **kwargs) -> requests.Response:
        """`sent` describes a body that is not JSON (a file), for the record of calls."""
        about = {"datapack_id": datapack_id, "link": link}
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self._send(method, path, sent, kwargs)
        except OAuthError as exc:
            raise NotAuthorized(f"repovizz2 refused to renew the login ({exc.error})", **about) from exc
        except requests.Timeout as exc:
            raise TimedOut("repovizz2 did not answer in time; nothing was changed by this request "
                           "that repovizz2 did not confirm", **about) from exc
        except requests.ConnectionError as exc:
            raise Unreachable(f"could not connect to repovizz2 at {self.base_url}", **about) from exc
        except AnswerTooLarge as exc:
            raise ServerError(f"repovizz2 answered {path} with more than {MAX_ANSWER_BYTES // (1024 * 1024)} MB, "
                              "far more than any datapack holds", exc.response.status_code, **about) from exc
        except requests.RequestException as exc:  # an answer cut short, undecodable, or redirecting in a loop
            raise ServerError(f"the exchange with repovizz2 failed ({type(exc).__name__})", **about) from exc
        if response.status_code >= 400:
            error = error_for(response, **about)
            response.close()  # a streamed answer would otherwise hold its pooled connection
            raise error
        return response

    def _json(self, method: str, path: str, **kwargs):
        response = self._call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(f"repovizz2 answered {path} with something that is not JSON", response.status_code,
                              datapack_id=kwargs.get("datapack_id"), link=kwargs.get("link")) from exc

    @staticmethod
    def _shaped(answer, keys: tuple[str, ...], what: str) -> dict:
        """`answer` if it is an object with `keys`, else ServerError: an odd answer is repovizz2's fault, not a 500."""
        if not isinstance(answer, dict) or any(key not in answer for key in keys):
            raise ServerError(f"repovizz2 answered {what} in a shape the portal does not know")
        return answer

    def reachable(self) -> bool:
        """Whether repovizz2 answers at all (any HTTP status), for /healthz."""
        try:
            self.http.request("GET", f"{self.base_url}{API}/user", timeout=self.timeout).close()
        except requests.RequestException:
            return False
        return True

    def user(self) -> dict:
        return self._shaped(self._json("GET", f"{API}/user"), ("id", "username"), "the user")

    def datapack(self, datapack_id: str) -> dict:
        answer = self._json("GET", f"{API}/datapacks/{quote_link(datapack_id)}", datapack_id=datapack_id)
        answer = self._shaped(answer, ("id", "structure"), "the datapack")
        if not isinstance(answer["structure"], dict):
            raise ServerError("repovizz2 answered the datapack with a document that is not an object")
        return answer

    def create_datapack(self, name: str, owner: int | str, structure: dict) -> dict:
        """`owner` is the user id exactly as `user()` gave it (an integer or a string): passed back as is."""
        try:
            answer = self._json("POST", f"{API}/datapacks", json={"name": name, "owner": owner, "structure": structure})
        except NameTaken as taken:
            taken.name = name  # the name sent, whatever the message's wording
            raise
        return self._shaped(self._shaped(answer, ("item",), "the new datapack")["item"], ("id",), "the new datapack")

    def update_datapack(self, datapack_id: str, *, name: str | None = None, structure: dict | None = None) -> None:
        body = {key: value for key, value in (("name", name), ("structure", structure)) if value is not None}
        self._json("POST", f"{API}/datapacks/{quote_link(datapack_id)}", json=body, datapack_id=datapack_id)

    def content(self, datapack_id: str) -> dict:
        return self._shaped(self._json("GET", f"{API}/datapacks/{quote_link(datapack_id)}/content",
                                      datapack_id=datapack_id), (), "the content")

    def upload_asset(self, datapack_id: str, link: str, source: BinaryIO, size: int, mime: str = "") -> str | None:
        """Stream `size` bytes of `source` to the data node whose link is `link`.

        Returns ``repovizz:<id>``, or None from older servers that answer only ``{"result": "OK"}``
        (the new link is then read from the document). A source that gives more or fewer bytes
        than `size` raises BodyLengthMismatch before the body completes, so nothing is stored.
        """
        body = multipart_body(source, size, field="file", filename=link.rsplit("/", 1)[-1], content_type=mime)
        path = f"{API}/datapacks/{quote_link(datapack_id)}/content/{quote_link(link)}"
        sent = {"file": {"filename": link.rsplit("/", 1)[-1], "size": size, "content_type": mime or None}}
        answer = self._json("POST", path, data=body, headers={"Content-Type": body.content_type},
                            datapack_id=datapack_id, link=link, sent=sent)
        if isinstance(answer, dict) and isinstance(answer.get("id"), str):
            return UPLOADED_PREFIX + answer["id"]
        return None

    def asset_details(self, datapack_id: str, file_id: str) -> tuple[str, int | None]:
        """The name a stored file was uploaded under and its size, from the headers of its download
        (a HEAD, no bytes): ("", None) for what repovizz2 does not say."""
        response = self._call("HEAD", f"{API}/datapacks/{quote_link(datapack_id)}/content/{quote_link(file_id)}",
                              datapack_id=datapack_id)
        response.close()
        _, options = parse_options_header(response.headers.get("Content-Disposition") or "")
        length = response.headers.get("Content-Length") or ""
        return options.get("filename") or "", int(length) if length.isdigit() and len(length) < 19 else None

    def open_asset(self, datapack_id: str, file_id: str, byte_range: str | None = None) -> requests.Response:
        """The stored bytes, as a streaming response the caller must close; `byte_range` (a ``Range``
        header's value) asks for part of them, answered 206 where repovizz2 supports it, else 200."""
        headers = {"Range": byte_range} if byte_range else {}
        return self._call("GET", f"{API}/datapacks/{quote_link(datapack_id)}/content/{quote_link(file_id)}",
                          stream=True, headers=headers, datapack_id=datapack_id)


# What `repovizz2-portal check` asks repovizz2, without a user: is the API where the settings say,
# and does the token endpoint accept the portal's client id and secret.

CHECK_CODE = "repovizz2-portal-check"  # an authorization code no server ever issued


def probe_api(base_url: str, timeout: float | tuple) -> str | None:
    """None when `base_url` answers as repovizz2's API does without a token (a 401 at /api/v1.0/user),
    else what is wrong, in words; Unreachable or TimedOut when nothing answers."""
    url = f"{base_url.rstrip('/')}{API}/user"
    with requests.Session() as http:
        bound_answers(http)
        try:
            answer = http.get(url, timeout=timeout, allow_redirects=False)
        except AnswerTooLarge as exc:
            raise ServerError(f"{url} answered with more than {MAX_ANSWER_BYTES // (1024 * 1024)} MB") from exc
        except requests.Timeout as exc:
            raise TimedOut(f"{url} did not answer within {timeout} s") from exc
        except requests.RequestException as exc:
            raise Unreachable(f"{url} cannot be reached ({_reason(exc)})") from exc
    if answer.status_code == 401:
        return None
    kind = answer.headers.get("Content-Type", "no Content-Type").split(";")[0]
    return f"{url} answered {answer.status_code} ({kind}) where repovizz2's API answers 401 to a call without a login"


def probe_client(base_url: str, client_id: str, client_secret: str, timeout: float | tuple) -> str:
    """The OAuth error repovizz2's token endpoint gives the portal's client for a code it never issued:
    ``invalid_grant`` means it accepted the client id and secret (only the code was wrong),
    ``invalid_client`` that it refused them. Unreachable, TimedOut or ServerError when there is no such answer."""
    url = f"{base_url.rstrip('/')}/oauth/token"
    with requests.Session() as http:
        bound_answers(http)
        try:
            answer = http.post(url, timeout=timeout, allow_redirects=False, auth=(client_id, client_secret),
                               data={"grant_type": "authorization_code", "code": CHECK_CODE})
        except AnswerTooLarge as exc:
            raise ServerError(f"{url} answered with more than {MAX_ANSWER_BYTES // (1024 * 1024)} MB") from exc
        except requests.Timeout as exc:
            raise TimedOut(f"{url} did not answer within {timeout} s") from exc
        except requests.RequestException as exc:
            raise Unreachable(f"{url} cannot be reached ({_reason(exc)})") from exc
    try:
        error = answer.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if answer.status_code not in (400, 401) or not isinstance(error, str) or not re.fullmatch(r"[a-z_]+", error):
        kind = answer.headers.get("Content-Type", "no Content-Type").split(";")[0]
        raise ServerError(f"{url} answered {answer.status_code} ({kind}), not an OAuth2 token endpoint's error answer",
                          answer.status_code)
    return error


def _reason(exc: requests.RequestException) -> str:
    """The innermost cause of a failed request, e.g. 'Connection refused' or a name that does not resolve."""
    cause: BaseException = exc
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__
    text = str(cause) or type(cause).__name__
    return text.split("] ", 1)[-1] if text.startswith("[Errno") else text
