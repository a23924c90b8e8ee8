"""A request body that stops arriving frees its thread: a socket timeout on each body read under gunicorn.

gunicorn's gthread worker reads a request body with blocking ``recv()`` calls and no timeout, so a
client that announces ``Content-Length: 100000`` and sends nothing more holds a thread for as long as
it keeps the connection open. gunicorn hands the app its socket (``environ["gunicorn.socket"]``);
this middleware wraps ``wsgi.input`` so that each read waits at most ``seconds`` for the next bytes
(between two reads, like nginx's ``client_body_timeout``: a large upload that keeps moving is never cut).

Past the timeout the read raises `BodyReadTimeout` (a `ClientDisconnected`, so code that already
handles a client that went away handles this one too; Flask answers it with 408) and the socket's
read side is shut, so gunicorn does not wait again to drain the rest of the body before closing.

Only HTTP/1.x requests under gunicorn are wrapped; other servers, and gunicorn's HTTP/2 streams
(bounded by its own ``--timeout``), are left as they are. Headers are read by gunicorn before the app
runs: this cannot bound a client that dribbles its request header (see docs/deploy.md, "Slow clients").
"""
from __future__ import annotations

import socket
import ssl
import time

from werkzeug.exceptions import ClientDisconnected


class BodyReadTimeout(ClientDisconnected):
    code = 408
    description = "The request body stopped arriving; the request was abandoned."


def stop_reading(sock) -> None:
    """Shut the read side of gunicorn's client socket: gunicorn then closes the connection after the
    answer instead of waiting (up to seconds) to drain the rest of a body nobody will read."""
    if isinstance(sock, socket.socket) and not isinstance(sock, ssl.SSLSocket):  # TLS would lose its state
        try:
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass


def stalled(sock: socket.socket, seconds: float) -> BodyReadTimeout:
    """The error for a body that stopped arriving, its socket's read side shut first so that gunicorn
    does not wait again to drain the rest of the body before it closes the connection."""
    stop_reading(sock)
    return BodyReadTimeout(f"no part of the request body arrived for {seconds:g} s")


class TimedInput:
    """``wsgi.input`` whose reads wait at most `seconds` for the client; everything else is passed through."""

    def __init__(self, stream, sock: socket.socket, seconds: float):
        self._stream = stream
        self._sock = sock
        self._seconds = seconds

    @property
    def stream(self):
        """The server's own input, for a reader that reads the socket itself (portal/body_relay.py)."""
        return self._stream

    @property
    def seconds(self) -> float:
        return self._seconds

    def _timed(self, method, *args):
        prior = self._sock.gettimeout()
        self._sock.settimeout(self._seconds)
        try:
            return method(*args)
        except TimeoutError:
            raise stalled(self._sock, self._seconds) from None
        finally:
            try:
                self._sock.settimeout(prior)
            except OSError:
                pass

    def read(self, *args):
        return self._timed(self._stream.read, *args)

    def readline(self, *args):
        return self._timed(self._stream.readline, *args)

    def readlines(self, *args):
        return self._timed(self._stream.readlines, *args)

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def __getattr__(self, name):
        return getattr(self._stream, name)


# A body refused unread: what is read and thrown away before the connection is closed instead.
LINGER_SECONDS = 0.3
LINGER_BYTES = 64 * 1024


def discard_unread_body(environ) -> None:
    """After a body was refused unread (no login, or a token repovizz2 refused): read and drop what
    arrives within LINGER_SECONDS (at most LINGER_BYTES), so that a small body sent whole keeps its
    connection; else shut the socket's read side, so that gunicorn closes the connection at once
    instead of holding the thread while it drains a body that stalls (a 100 kB PUT that sent 10 bytes)."""
    sock = environ.get("gunicorn.socket")
    stream = environ.get("wsgi.input")
    if not isinstance(sock, socket.socket) or stream is None:
        return
    stream = getattr(stream, "stream", stream) if isinstance(stream, TimedInput) else stream
    deadline = time.monotonic() + LINGER_SECONDS
    prior = sock.gettimeout()
    drained = 0
    try:
        while drained < LINGER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            chunk = stream.read(min(8192, LINGER_BYTES - drained))
            if not chunk:
                return  # the whole body arrived: the connection may serve another request
            drained += len(chunk)
    except (OSError, ValueError):
        pass
    finally:
        try:
            sock.settimeout(prior)
        except OSError:
            pass
    stop_reading(sock)


class BodyReadTimeoutMiddleware:
    """WSGI middleware: give gunicorn's ``wsgi.input`` a read timeout of `seconds` (0 or less: none)."""

    def __init__(self, wsgi_app, seconds: float):
        self.wsgi_app = wsgi_app
        self.seconds = seconds

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if (self.seconds > 0 and isinstance(sock, socket.socket) and "wsgi.input" in environ
                and environ.get("SERVER_PROTOCOL", "").startswith("HTTP/1")):
            environ["wsgi.input"] = TimedInput(environ["wsgi.input"], sock, self.seconds)
        return self.wsgi_app(environ, start_response)
