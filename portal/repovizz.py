"""The one place that knows repovizz2's URLs and error shapes."""
from __future__ import annotations

import re
from typing import BinaryIO, Callable
from urllib.parse import quote

import requests
from authlib.integrations.base_client import OAuthError

from .body_relay import multipart_body
from .datapack import UPLOADED_PREFIX
from .streaming import MultipartFile

API = "/api/v1.0"


class Repovizz2Error(Exception):
    """repovizz2 refused a call or could not be reached. ``status`` is the HTTP status, if any."""

    status: int | None = None
    title = "repovizz2 could not do that"

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.datapack_id: str | None = None  # set by callers mid-way through a datapack


class NotAuthorized(Repovizz2Error):
    """The token is missing, expired and not refreshable, or was refused: the user must log in again."""

    status = 401
    title = "Your repovizz2 login has expired"


class Forbidden(Repovizz2Error):
    status = 403
    title = "That datapack belongs to someone else"


class NotFound(Repovizz2Error):
    status = 404
    title = "Not found in repovizz2"


class NameTaken(Repovizz2Error):
    """409: the user already has a datapack of that name; ``existing_id`` says which."""

    status = 409
    title = "You already have a datapack with that name"

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message, status)
        found = re.search(r"\(([^()]+)\)\s*$", message)
        self.existing_id = found.group(1) if found else None


class Rejected(Repovizz2Error):
    status = 422
    title = "repovizz2 refused the datapack"


class ServerError(Repovizz2Error):
    title = "repovizz2 had an internal error"


class Unreachable(Repovizz2Error):
    title = "repovizz2 cannot be reached"


class TimedOut(Repovizz2Error):
    title = "repovizz2 did not answer in time"


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


def error_for(response: requests.Response) -> Repovizz2Error:
    """The project's exception for an unsuccessful repovizz2 answer."""
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else Repovizz2Error
    return cls(_error_message(response), response.status_code)


def quote_link(link: str) -> str:
    """A link as one URL path segment: every '/', '?', '#', '%' and space encoded, and a link of
    only dots encoded too, or clients would resolve it as '.' or '..' and reach another path."""
    quoted = quote(link, safe="")
    return quoted.replace(".", "%2E") if set(link) == {"."} else quoted


class Repovizz2Client:
    """Thin client over an (OAuth2-signed) requests session; every call has a timeout."""

    def __init__(self, http: requests.Session, base_url: str, timeout: float | tuple = (5, 60),
                 stored_token: Callable[[], dict | None] | None = None):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.stored_token = stored_token

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self._replayable(kwargs.get("data")) and self._refresh():
            response.close()
            response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            error = error_for(response)
            response.close()  # a streamed answer would otherwise hold its pooled connection
            raise error
        return response

    @staticmethod
    def _replayable(body) -> bool:
        """A body can be sent again after a refresh unless it streams from a one-way source."""
        return body.rewind() if isinstance(body, MultipartFile) else True

    def _adopt_stored_token(self) -> bool:
        """After a refused renewal, take the token another request of the same user renewed meanwhile.

        Parallel uploads can try to renew one refresh token at once; repovizz2 honours only the first.
        """
        stored = self.stored_token() if self.stored_token else None
        current = getattr(self.http, "token", None) or {}
        if not stored or stored.get("access_token") == current.get("access_token"):
            return False
        self.http.token = stored
        return not self.http.token.is_expired()

    def _refresh(self) -> bool:
        """Renew the token once after a 401 (repovizz2 may end a token before its announced expiry)."""
        token = getattr(self.http, "token", None)
        if not token or not token.get("refresh_token") or not hasattr(self.http, "refresh_token"):
            return False
        try:
            self.http.refresh_token()
        except OAuthError as exc:
            raise NotAuthorized(f"repovizz2 refused to renew the login ({exc.error})") from exc
        except requests.RequestException as exc:
            raise Unreachable(f"could not renew the login at {self.base_url}") from exc
        return True

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        try:
            try:
                return self.http.request(method, self.base_url + path, **kwargs)
            except OAuthError:
                if not self._adopt_stored_token():
                    raise
                return self.http.request(method, self.base_url + path, **kwargs)
        except OAuthError as exc:
            raise NotAuthorized(f"repovizz2 refused to renew the login ({exc.error})") from exc
        except requests.Timeout as exc:
            raise TimedOut("repovizz2 did not answer in time; nothing was changed by this request "
                           "that repovizz2 did not confirm") from exc
        except requests.ConnectionError as exc:
            raise Unreachable(f"could not connect to repovizz2 at {self.base_url}") from exc
        except requests.RequestException as exc:  # an answer cut short, undecodable, or redirecting in a loop
            raise ServerError(f"the exchange with repovizz2 failed ({type(exc).__name__})") from exc

    def _json(self, method: str, path: str, **kwargs):
        response = self._call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(f"repovizz2 answered {path} with something that is not JSON", response.status_code) from exc

    @staticmethod
    def _shaped(answer, keys: tuple[str, ...], what: str) -> dict:
        """`answer` if it is an object with `keys`, else ServerError: an odd answer is repovizz2's fault, not a 500."""
        if not isinstance(answer, dict) or any(key not in answer for key in keys):
            raise ServerError(f"repovizz2 answered {what} in a shape the portal does not know")
        return answer

    def user(self) -> dict:
        return self._shaped(self._json("GET", f"{API}/user"), ("id", "username"), "the user")

    def datapack(self, datapack_id: str) -> dict:
        answer = self._json("GET", f"{API}/datapacks/{quote_link(datapack_id)}")
        answer = self._shaped(answer, ("id", "structure"), "the datapack")
        if not isinstance(answer["structure"], dict):
            raise ServerError("repovizz2 answered the datapack with a document that is not an object")
        return answer

    def create_datapack(self, name: str, owner: str, structure: dict) -> dict:
        answer = self._json("POST", f"{API}/datapacks", json={"name": name, "owner": owner, "structure": structure})
        return self._shaped(self._shaped(answer, ("item",), "the new datapack")["item"], ("id",), "the new datapack")

    def update_datapack(self, datapack_id: str, *, name: str | None = None, structure: dict | None = None) -> None:
        body = {key: value for key, value in (("name", name), ("structure", structure)) if value is not None}
        self._json("POST", f"{API}/datapacks/{quote_link(datapack_id)}", json=body)

    def content(self, datapack_id: str) -> dict:
        return self._shaped(self._json("GET", f"{API}/datapacks/{quote_link(datapack_id)}/content"), (), "the content")

    def upload_asset(self, datapack_id: str, link: str, source: BinaryIO, size: int, mime: str = "") -> str | None:
        """Stream `size` bytes of `source` to the data node whose link is `link`.

        Returns ``repovizz:<id>``, or None from older servers that answer only ``{"result": "OK"}``
        (the new link is then read from the document). A source that gives more or fewer bytes
        than `size` raises BodyLengthMismatch before the body completes, so nothing is stored.
        """
        body = multipart_body(source, size, field="file", filename=link.rsplit("/", 1)[-1], content_type=mime)
        path = f"{API}/datapacks/{quote_link(datapack_id)}/content/{quote_link(link)}"
        answer = self._json("POST", path, data=body, headers={"Content-Type": body.content_type})
        if isinstance(answer, dict) and isinstance(answer.get("id"), str):
            return UPLOADED_PREFIX + answer["id"]
        return None

    def open_asset(self, datapack_id: str, file_id: str) -> requests.Response:
        """The stored bytes, as a streaming response the caller must close."""
        return self._call("GET", f"{API}/datapacks/{quote_link(datapack_id)}/content/{quote_link(file_id)}", stream=True)
