"""The project's exceptions for what fails beyond the portal's own rules: repovizz2 refusing a call or
not answering (`Repovizz2Error` and its kinds, one per way repovizz2 fails), and a file sent to the
portal that could not be read (`UnreadableFile`), which is no failure of repovizz2's. The one error
handler turns each into the page or JSON the user sees."""
from __future__ import annotations

import re


class Repovizz2Error(Exception):
    """repovizz2 refused a call or could not be reached. ``status`` is the HTTP status, if any;
    ``datapack_id`` and ``link`` say which datapack (and which of its files) the call was about."""

    status: int | None = None
    title = "repovizz2 could not do that"

    def __init__(self, message: str, status: int | None = None, *, datapack_id: str | None = None,
                 link: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.datapack_id = datapack_id
        self.link = link


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
    """409: the user already has a datapack of that name; ``existing_id`` says which, ``name`` which name."""

    status = 409
    title = "You already have a datapack with that name"

    existing_pending: int | None = None  # files the datapack with that name still waits for, when told
    suggested_name = ""  # a free name to offer instead, when worked out

    def __init__(self, message: str, status: int | None = None, **about):
        super().__init__(message, status, **about)
        found = re.search(r"\(([^()]+)\)\s*$", message)
        self.existing_id = found.group(1) if found else None
        named = re.match(r"Datapack (.+) already exists with id \(", message, re.DOTALL)
        self.name: str | None = named.group(1) if named else None


class Rejected(Repovizz2Error):
    status = 422
    title = "repovizz2 refused the datapack"


class ServerError(Repovizz2Error):
    title = "repovizz2 had an internal error"


class Unreachable(Repovizz2Error):
    title = "repovizz2 cannot be reached"


class TimedOut(Repovizz2Error):
    title = "repovizz2 did not answer in time"


class UnreadableFile(Exception):
    """A file sent to the portal broke while being read (a damaged zip entry, say): nothing of it was
    stored. ``datapack_id`` and ``link`` say which datapack and which of its files it was for."""

    status = 422
    title = "A file could not be read"

    def __init__(self, message: str, *, datapack_id: str | None = None, link: str | None = None):
        super().__init__(message)
        self.message = message
        self.datapack_id = datapack_id
        self.link = link


class IncompleteBody(UnreadableFile):
    """The sender's body ended before (or ran past) its announced length: nothing of it was stored."""

    status = 400
    title = "The file arrived incomplete"
