"""The relay of a PUT body through one reused buffer (portal/body_relay.py): the multipart body whose
chunks are views of that buffer, and the reader of a gunicorn request's body straight from its socket,
tested on gunicorn's own parser over a socket pair, with the plain fallback for everything else."""
from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import time

import pytest
import requests
from gunicorn.config import Config
from gunicorn.http import wsgi as gunicorn_wsgi
from gunicorn.http.parser import RequestParser
from werkzeug.formparser import parse_form_data
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from portal.services.body_relay import (GunicornSocketBody, ReusedBufferMultipart, gunicorn_socket_body, multipart_body,
                               request_source)
from portal.services.body_timeout import BodyReadTimeout, TimedInput
from portal.rules.multipart_body import BodyLengthMismatch, MultipartFile
from portal.services.tokens import replayable


class TrickleReader(io.RawIOBase):
    """A file that fills at most `most_per_read` bytes per readinto, like a socket."""

    def __init__(self, data: bytes, most_per_read: int):
        self.source = io.BytesIO(data)
        self.most_per_read = most_per_read

    def readable(self):
        return True

    def readinto(self, target):
        piece = self.source.read(min(len(target), self.most_per_read))
        target[:len(piece)] = piece
        return len(piece)


def streamed(body) -> bytes:
    """The body as a socket would get it: each chunk taken before the next is asked for."""
    return b"".join(bytes(chunk) for chunk in body)


def file_part(raw: bytes, content_type: str) -> bytes:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(raw)),
               "wsgi.input": io.BytesIO(raw)}
    _, _, files = parse_form_data(environ)
    return files["file"].read()


# -- the multipart body over a reused buffer ---------------------------------------------------------

@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1025, 10 * 1024 + 7])
@pytest.mark.parametrize("most_per_read", [None, 333])
def test_same_bytes_as_the_plain_body_and_exact_length(size, most_per_read):
    data = os.urandom(size)
    source = TrickleReader(data, most_per_read) if most_per_read else io.BytesIO(data)
    body = ReusedBufferMultipart(source, size, filename="señal ✓.bin", chunk_size=1024)
    plain = MultipartFile(io.BytesIO(data), size, filename="señal ✓.bin", chunk_size=1024)
    plain.boundary = body.boundary
    plain.head, plain.tail = body.head, body.tail
    raw = streamed(body)
    assert raw == b"".join(plain)
    assert len(raw) == len(body)
    assert body.sent == size
    assert file_part(raw, body.content_type) == data


def test_chunks_are_views_of_one_buffer_released_when_the_next_is_asked_for():
    data = os.urandom(5 * 1024)
    body = ReusedBufferMultipart(io.BytesIO(data), len(data), chunk_size=1024)
    parts = iter(body)
    assert next(parts) == body.head
    first = next(parts)
    assert isinstance(first, memoryview) and bytes(first) == data[:1024]
    buffer = first.obj
    second = next(parts)
    assert second.obj is buffer  # the same buffer, refilled
    with pytest.raises(ValueError):
        bytes(first)  # a consumer that kept a chunk gets an error, never bytes overwritten since
    assert bytes(second) == data[1024:2048]


def test_joining_all_chunks_at_once_fails_loudly():
    body = ReusedBufferMultipart(io.BytesIO(b"x" * 3000), 3000, chunk_size=1024)
    with pytest.raises(TypeError, match="memoryview"):
        b"".join(body)  # the views it collected were released, not left to show the last chunk's bytes


def test_a_short_source_is_refused():
    body = ReusedBufferMultipart(io.BytesIO(b"abc"), 5, chunk_size=2)
    with pytest.raises(BodyLengthMismatch, match=r"^the file ended after 3 of 5 bytes$"):
        streamed(body)


def test_a_long_source_is_refused_before_the_closing_boundary():
    body = ReusedBufferMultipart(io.BytesIO(b"abcdef"), 5)
    parts = iter(body)
    assert next(parts) == body.head and bytes(next(parts)) == b"abcde"
    with pytest.raises(BodyLengthMismatch, match=r"^the file is longer than the announced 5 bytes$"):
        next(parts)


def test_seekable_source_can_be_sent_again_and_one_way_source_cannot():
    data = os.urandom(3000)
    seekable = ReusedBufferMultipart(io.BytesIO(data), len(data), chunk_size=1024)
    first = streamed(seekable)
    assert replayable(seekable)
    assert streamed(seekable) == first
    one_way = ReusedBufferMultipart(TrickleReader(data, 1000), len(data))
    assert not replayable(one_way)


def test_multipart_body_uses_the_reused_buffer_only_for_sources_that_readinto():
    class ReadOnly:
        def read(self, size=-1):
            return b""

    assert type(multipart_body(io.BytesIO(b"ab"), 2)) is ReusedBufferMultipart
    assert type(multipart_body(ReadOnly(), 0)) is MultipartFile


@pytest.fixture(scope="module")
def echo_server():
    """A real HTTP server that answers the SHA-256 and length of the file part it was sent."""

    @Request.application
    def app(request):
        upload = request.files["file"].read()
        return Response(f"{hashlib.sha256(upload).hexdigest()} {len(upload)} {request.content_length}")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_requests_sends_every_chunk_before_asking_for_the_next(echo_server):
    """requests → urllib3 → http.client sendall each chunk before the next is read into the buffer:
    what arrives is the file, byte for byte, over a real socket, in many chunks of one buffer."""
    data = os.urandom(200 * 1024 + 17)
    body = ReusedBufferMultipart(TrickleReader(data, 1500), len(data), chunk_size=4096)
    with requests.Session() as http:
        answer = http.post(echo_server + "/", data=body, headers={"Content-Type": body.content_type}, timeout=30)
    assert answer.text == f"{hashlib.sha256(data).hexdigest()} {len(data)} {len(body)}"


def test_requests_announces_the_exact_length_not_chunked():
    body = ReusedBufferMultipart(io.BytesIO(b"abc"), 3)
    prepared = requests.Request("POST", "http://repovizz2.test/x", data=body,
                                headers={"Content-Type": body.content_type}).prepare()
    assert prepared.headers["Content-Length"] == str(len(body))
    assert "Transfer-Encoding" not in prepared.headers
    assert prepared.body is body


# -- the gunicorn body read from its socket ----------------------------------------------------------

class GunicornConnection:
    """gunicorn's own request parser on one end of a socket pair; the test writes the client's end."""

    def __init__(self):
        self.server, self.client = socket.socketpair()
        self.server.settimeout(10)  # a test that goes wrong fails instead of waiting forever
        self.parser = RequestParser(Config(), self.server, ("127.0.0.1", 40000))

    def next_request(self):
        request = next(self.parser)
        _, environ = gunicorn_wsgi.create(request, self.server, ("127.0.0.1", 40000), ("127.0.0.1", 8000),
                                          self.parser.cfg)
        return request, environ

    def close(self):
        self.client.close()
        self.server.close()


@pytest.fixture
def connection():
    live = GunicornConnection()
    yield live
    live.close()


def put(path: str, data: bytes, length: int | None = None) -> bytes:
    length = len(data) if length is None else length
    return f"PUT {path} HTTP/1.1\r\nHost: portal\r\nContent-Length: {length}\r\n\r\n".encode() + data


def relay(environ, size, chunk_size=64 * 1024) -> bytes:
    source = gunicorn_socket_body(environ, size)
    assert isinstance(source, GunicornSocketBody)
    body = multipart_body(source, size, chunk_size=chunk_size)
    assert isinstance(body, ReusedBufferMultipart) and not replayable(body)
    return file_part(streamed(body), body.content_type)


@pytest.mark.parametrize("size", [1, 100, 5000, 300 * 1024])
def test_the_body_then_a_pipelined_request_on_the_same_connection(connection, size):
    """Bodies that came whole with the headers and bodies still on the socket: each is read exactly,
    and the next request on the connection is still there for gunicorn to parse."""
    first, second = os.urandom(size), os.urandom(777)
    written = put("/one", first) + put("/two", second) + b"GET /three HTTP/1.1\r\nHost: p\r\n\r\n"
    sender = threading.Thread(target=connection.client.sendall, args=(written,))
    sender.start()
    request, environ = connection.next_request()
    assert request.path == "/one"
    assert relay(environ, size) == first
    request, environ = connection.next_request()
    assert request.path == "/two"
    assert relay(environ, len(second), chunk_size=100) == second
    request, _ = connection.next_request()
    assert request.path == "/three"
    sender.join(5)


def test_the_body_arriving_in_pieces(connection):
    data = os.urandom(256 * 1024)

    def trickle():
        message = put("/slow", data)
        for start in range(0, len(message), 10_000):
            connection.client.sendall(message[start:start + 10_000])

    sender = threading.Thread(target=trickle)
    sender.start()
    _, environ = connection.next_request()
    assert relay(environ, len(data)) == data
    sender.join(5)


def test_a_client_that_stops_short_is_refused_and_the_connection_ends(connection):
    connection.client.sendall(put("/short", b"x" * 1000, length=4000))
    connection.client.shutdown(socket.SHUT_WR)
    _, environ = connection.next_request()
    body = multipart_body(gunicorn_socket_body(environ, 4000), 4000)
    with pytest.raises(BodyLengthMismatch, match=r"^the file ended after 1000 of 4000 bytes$"):
        streamed(body)
    with pytest.raises(StopIteration):
        connection.next_request()


def test_a_failing_client_socket_is_refused_and_the_connection_is_not_reused(connection):
    class ResetOnBody:
        """The socket as gunicorn sees it, except that reading the body into a buffer fails."""

        def __init__(self, sock):
            self.sock = sock

        def recv(self, size):
            return self.sock.recv(size)

        def recv_into(self, buffer, size=0):
            raise ConnectionResetError(104, "Connection reset by peer")

    connection.server = ResetOnBody(connection.server)
    connection.parser = RequestParser(Config(), connection.server, ("127.0.0.1", 40000))
    connection.client.sendall(put("/reset", b"y" * 100, length=50_000) + put("/never", b"z"))
    _, environ = connection.next_request()
    body = multipart_body(gunicorn_socket_body(environ, 50_000), 50_000)
    with pytest.raises(BodyLengthMismatch, match=r"connection to the client failed \(ConnectionResetError\)"):
        streamed(body)
    assert environ["wsgi.input"].failed  # gunicorn closes the connection instead of reading on
    with pytest.raises(StopIteration):
        connection.next_request()
    connection.server = connection.server.sock


def test_read_stops_at_the_end_of_the_body(connection):
    connection.client.sendall(put("/x", b"abcdef") + put("/y", b"g"))
    _, environ = connection.next_request()
    source = gunicorn_socket_body(environ, 6)
    assert source.read(4) == b"abcd" and source.read() == b"ef"
    assert source.read(1) == b"" and source.remaining == 0
    request, _ = connection.next_request()
    assert request.path == "/y"


@pytest.mark.parametrize("read_first", [0, 3, 70_000])
def test_a_body_left_part_read_is_drained_by_gunicorn_up_to_the_next_request(connection, read_first):
    """repovizz2 failing before or in the middle of the body: what was not read is still gunicorn's to
    drain, and the next request on the connection starts where it should."""
    data = os.urandom(100_000)
    sender = threading.Thread(target=connection.client.sendall, args=(put("/one", data) + put("/two", b"z"),))
    sender.start()
    _, environ = connection.next_request()
    source = gunicorn_socket_body(environ, len(data))
    got = bytearray()
    while len(got) < read_first:
        got += source.read(read_first - len(got))
    assert got == data[:read_first]
    request, _ = connection.next_request()
    assert request.path == "/two"
    sender.join(5)


# -- when the socket is not used: the plain wsgi.input --------------------------------------------------

def test_a_body_already_read_from_is_left_to_wsgi_input(connection):
    connection.client.sendall(put("/x", b"abcdef"))
    _, environ = connection.next_request()
    assert environ["wsgi.input"].read(2) == b"ab"
    assert gunicorn_socket_body(environ, 6) is None
    assert gunicorn_socket_body(environ, 4) is None  # what is left is in gunicorn's buffer, not the socket


def test_a_length_that_is_not_the_bodys_is_left_to_wsgi_input(connection):
    connection.client.sendall(put("/x", b"abcdef"))
    _, environ = connection.next_request()
    assert gunicorn_socket_body(environ, 5) is None
    assert environ["wsgi.input"].read() == b"abcdef"  # and nothing was taken from gunicorn


def test_a_chunked_body_is_left_to_wsgi_input(connection):
    connection.client.sendall(b"PUT /x HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n"
                              b"3\r\nabc\r\n0\r\n\r\n")
    _, environ = connection.next_request()
    assert gunicorn_socket_body(environ, 3) is None
    assert environ["wsgi.input"].read() == b"abc"


def test_without_the_socket_in_the_environ_it_is_left_to_wsgi_input(connection):
    connection.client.sendall(put("/x", b"abcdef"))
    _, environ = connection.next_request()
    del environ["gunicorn.socket"]
    assert gunicorn_socket_body(environ, 6) is None
    assert environ["wsgi.input"].read() == b"abcdef"


def test_other_servers_get_werkzeugs_stream():
    environ = EnvironBuilder(method="PUT", data=b"abcdef").get_environ()
    assert gunicorn_socket_body(environ, 6) is None
    request = Request(environ)
    source = request_source(request)
    assert source is request.stream
    assert type(multipart_body(source, 6)) is ReusedBufferMultipart


def test_a_server_that_ends_the_body_itself_but_is_not_gunicorn_gets_its_own_input():
    environ = EnvironBuilder(method="PUT", data=b"abcdef").get_environ()
    environ["wsgi.input_terminated"] = True
    assert request_source(Request(environ)) is environ["wsgi.input"]


def test_the_installed_gunicorn_is_read_from_the_socket(connection):
    """If a gunicorn release changes what the socket reader relies on, this fails (the portal would
    still work, through wsgi.input, but pay gunicorn's copies again)."""
    connection.client.sendall(put("/x", b"abcdef"))
    _, environ = connection.next_request()
    assert environ["wsgi.input_terminated"] is True
    assert isinstance(request_source(Request(environ)), GunicornSocketBody)


def test_a_body_that_stalls_is_given_up_after_the_read_timeout(connection):
    """With PORTAL_BODY_READ_TIMEOUT the socket reads are bounded too: a client that stops sending
    mid-body ends the request (nothing stored) instead of holding the thread."""
    connection.client.sendall(put("/stalls", b"x" * 1000, length=4000))  # and then nothing, the socket open
    _, environ = connection.next_request()
    timed = dict(environ, **{"wsgi.input": TimedInput(environ["wsgi.input"], environ["gunicorn.socket"], 0.2)})
    source = gunicorn_socket_body(timed, 4000)
    assert isinstance(source, GunicornSocketBody)  # the socket path, not the slower fallback
    started = time.monotonic()
    with pytest.raises(BodyReadTimeout, match="no part of the request body arrived for 0.2 s"):
        streamed(multipart_body(source, 4000))
    assert time.monotonic() - started < 5
    assert environ["wsgi.input"].failed  # gunicorn closes the connection rather than reading on
