"""A file PUT's body relayed to repovizz2 through one reused buffer, with as few copies as Python allows.

Two pieces, each usable without the other:

- ``ReusedBufferMultipart``: the multipart body of ``streaming.MultipartFile``, but the file is read with
  ``readinto`` into one buffer, and each chunk is handed to requests as a memoryview of it. requests
  (urllib3, http.client) ``sendall``s each chunk before it asks for the next one, so the buffer can be
  refilled then. A chunk view is released as soon as the next one is asked for: a consumer that kept
  one would get an error instead of silently sending bytes overwritten since.

- ``gunicorn_socket_body``: under gunicorn, ``wsgi.input`` copies each chunk several times (into
  BytesIOs, getvalue, slices) on its way to the application. For the file PUT, the rest of the body is
  read straight from the client's socket with ``recv_into``. That relies on gunicorn objects the WSGI
  spec does not describe (``gunicorn.socket`` in the environ; the body's reader, its remaining length
  and the bytes its unreader already took from the socket), so every one is checked first and anything
  unexpected — another gunicorn release, HTTP/2, a chunked body, any other server — gives None: the
  caller then streams from the plain ``wsgi.input``. While it reads, it keeps gunicorn's count of the
  body's remaining bytes true, so gunicorn drains or closes the connection afterwards exactly as if it
  had read the body itself, and bytes of a pipelined next request are left where gunicorn expects them.

``request_source`` picks the source for a request; ``multipart_body`` picks the body for a source.
"""
from __future__ import annotations

import io
from typing import BinaryIO, Iterator

from ..rules.multipart_body import BodyLengthMismatch, MultipartFile
from .body_timeout import TimedInput, stalled


class ReusedBufferMultipart(MultipartFile):
    """``MultipartFile`` whose file chunks are memoryviews of one reused buffer (the source needs ``readinto``).

    Only for consumers that are done with a chunk before they ask for the next one, as requests is;
    ``b"".join(body)`` fails (it holds every chunk at once), ``b"".join(bytes(c) for c in body)`` works.
    """

    def __iter__(self) -> Iterator[bytes | memoryview]:
        yield self.head
        buffer = memoryview(bytearray(min(self.chunk_size, self.size) or 1))
        remaining = self.size
        try:
            while remaining > 0:
                got = self.source.readinto(buffer[:remaining] if remaining < len(buffer) else buffer)
                if not got:
                    raise BodyLengthMismatch(f"the file ended after {self.size - remaining} of {self.size} bytes")
                remaining -= got
                self.sent += got
                chunk = buffer[:got]
                try:
                    yield chunk
                finally:
                    chunk.release()  # the consumer is done with it: the buffer is about to be refilled
            if self.source.read(1):
                raise BodyLengthMismatch(f"the file is longer than the announced {self.size} bytes")
        finally:
            buffer.release()
        yield self.tail


def multipart_body(source: BinaryIO, size: int, **kwargs) -> MultipartFile:
    """The multipart body for `source`: through a reused buffer when it can ``readinto``, else plain reads."""
    if callable(getattr(source, "readinto", None)):
        return ReusedBufferMultipart(source, size, **kwargs)
    return MultipartFile(source, size, **kwargs)


class GunicornSocketBody:
    """The rest of a gunicorn request body of known length: what gunicorn already holds, then the socket.

    Build it with ``gunicorn_socket_body``. Reads never go past the body's end, and each one is counted
    off gunicorn's own record of what is left to read.
    """

    def __init__(self, body, reader, unreader, sock, timeout: float | None = None):
        self._body = body
        self._reader = reader  # gunicorn's LengthReader: its `length` is what is left of the body
        self._unreader = unreader  # holds what gunicorn received past the headers, until it is taken
        self._sock = sock
        self._timeout = timeout  # PORTAL_BODY_READ_TIMEOUT: the longest wait for the next bytes
        self._held_by_gunicorn = True

    @property
    def remaining(self) -> int:
        return self._reader.length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False  # a one-way stream: a body sent from it cannot be replayed

    def readinto(self, target) -> int:
        """Up to ``len(target)`` bytes of the body into `target`; 0 once the body is read or the client left."""
        want = min(len(target), self._reader.length)
        if want <= 0:
            return 0
        held = self._unreader.take_buffered() if self._held_by_gunicorn else b""
        if held:
            # Bytes gunicorn received with the headers: take what is wanted, give the rest back at once, so
            # that gunicorn holds every byte of the body this has not read, whatever happens next.
            got = min(want, len(held))
            target[:got] = memoryview(held)[:got]
            if got < len(held):
                self._unreader.unread(held[got:])
        else:
            self._held_by_gunicorn = False  # nothing but this reads the connection now
            try:
                got = self._receive(target, want)
            except TimeoutError:
                self._body.failed = True
                raise stalled(self._sock, self._timeout) from None
            except OSError as error:
                # Where the next request starts is unknown now: gunicorn must close, not drain, the connection.
                self._body.failed = True
                # Not an OSError: urllib3 would take a reset for repovizz2 closing early and wait for its answer.
                raise BodyLengthMismatch(f"the connection to the client failed ({type(error).__name__}) with "
                                         f"{self._reader.length} bytes of the body still to come") from error
        self._reader.length -= got
        return got

    def _receive(self, target, want: int) -> int:
        if not self._timeout:
            return self._sock.recv_into(target, want)
        prior = self._sock.gettimeout()
        self._sock.settimeout(self._timeout)
        try:
            return self._sock.recv_into(target, want)
        finally:
            self._sock.settimeout(prior)

    def read(self, size: int = -1) -> bytes:
        size = self._reader.length if size is None or size < 0 else min(size, self._reader.length)
        buffer = bytearray(size)
        got = self.readinto(buffer) if size else 0
        return bytes(buffer[:got])


def gunicorn_socket_body(environ: dict, size: int) -> GunicornSocketBody | None:
    """The request body as a ``GunicornSocketBody`` if this is gunicorn as this module knows it and
    nothing of the body was read yet; else None (use ``wsgi.input``)."""
    sock = environ.get("gunicorn.socket")
    body = environ.get("wsgi.input")
    timeout = None
    if isinstance(body, TimedInput):  # reads bounded in time (portal/body_timeout.py): so are this one's
        body, timeout = body.stream, body.seconds
    try:
        from gunicorn.http.body import Body, LengthReader
        from gunicorn.http.unreader import SocketUnreader
    except ImportError:
        return None
    reader = getattr(body, "reader", None)
    unreader = getattr(reader, "unreader", None)
    if type(body) is not Body or type(reader) is not LengthReader or type(unreader) is not SocketUnreader:
        return None
    if sock is None or getattr(unreader, "sock", None) is not sock or not callable(getattr(sock, "recv_into", None)):
        return None
    if type(getattr(reader, "length", None)) is not int or reader.length != size or size <= 0:
        return None
    held = getattr(body, "buf", None)  # what Body.read took beyond what it returned: nothing, if never read
    if not isinstance(held, io.BytesIO) or held.getvalue():
        return None
    if not callable(getattr(unreader, "take_buffered", None)) or not callable(getattr(unreader, "unread", None)):
        return None
    return GunicornSocketBody(body, reader, unreader, sock, timeout)


def request_source(request) -> BinaryIO:
    """Where to stream a Flask request's body from.

    Under gunicorn (which ends the body itself and says so with ``wsgi.input_terminated``): the
    socket reader above when its checks pass, else gunicorn's ``wsgi.input``. Under any other server
    (``flask run``, the test client): Werkzeug's length-limited stream, which refuses a short body.
    """
    environ = request.environ
    if not environ.get("wsgi.input_terminated"):
        return request.stream
    size = request.content_length
    return (size and gunicorn_socket_body(environ, size)) or environ["wsgi.input"]
