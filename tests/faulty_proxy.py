"""A loopback TCP proxy that can misbehave on cue: cut an upload mid-stream, never answer, or pass a
request on whole and lose its answer."""
from __future__ import annotations

import socket
import threading

from tests.live_portal import free_port


class FaultyProxy:
    """Forwards 127.0.0.1:port to `target_port`. `fault` applies to requests whose first line contains
    `match`: "cut" closes both sides after `cut_after` bytes from the client; "hang" never answers;
    "drop-answer" passes the request on whole, lets the server answer, and closes the client's side
    instead of passing the answer back (the server did the work, the client never hears of it).
    `times`, when set, is how many more matching requests get the fault (then it is off)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fault: str | None = None
        self.match = "/content/"
        self.cut_after = 64 * 1024
        self.times: int | None = None
        self.dropped = 0  # answers lost by "drop-answer"
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.running = False
        self.listener.close()

    def _accept(self) -> None:
        while self.running:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(downstream,), daemon=True).start()

    def _take_fault(self, first_line: bytes) -> str:
        """The fault for a request with this first line ("" for none), counting it against `times`."""
        with self._lock:
            if not self.fault or self.match.encode() not in first_line:
                return ""
            if self.times is not None:
                if self.times <= 0:
                    return ""
                self.times -= 1
            return self.fault

    def _serve(self, downstream: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        state = {"fault": None}
        threading.Thread(target=self._pipe, args=(upstream, downstream, state), daemon=True).start()
        seen = 0
        faulty = None
        try:
            while True:
                data = downstream.recv(65536)
                if not data:
                    break
                if faulty is None:
                    faulty = state["fault"] = self._take_fault(data.split(b"\r\n", 1)[0])
                if faulty == "hang":
                    continue
                if faulty == "cut" and seen + len(data) > self.cut_after:
                    upstream.sendall(data[: self.cut_after - seen])
                    break
                seen += len(data)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            for end in (upstream, downstream):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()

    def _pipe(self, source: socket.socket, sink: socket.socket, state: dict) -> None:
        try:
            while data := source.recv(65536):
                if state["fault"] == "drop-answer":  # the server answered: the client never hears it
                    with self._lock:
                        self.dropped += 1
                    sink.shutdown(socket.SHUT_RDWR)
                    return
                sink.sendall(data)
        except OSError:
            pass
