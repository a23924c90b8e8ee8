"""A loopback TCP proxy that can misbehave on cue: cut an upload mid-stream, or never answer."""
from __future__ import annotations

import socket
import threading

from tests.live_portal import free_port


class FaultyProxy:
    """Forwards 127.0.0.1:port to `target_port`. `fault` applies to requests whose first line contains
    `match`: "cut" closes both sides after `cut_after` bytes from the client; "hang" never answers."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fault: str | None = None
        self.match = "/content/"
        self.cut_after = 64 * 1024
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

    def _serve(self, downstream: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        threading.Thread(target=self._pipe, args=(upstream, downstream), daemon=True).start()
        seen = 0
        faulty = None
        try:
            while True:
                data = downstream.recv(65536)
                if not data:
                    break
                if faulty is None:
                    faulty = self.fault if self.match.encode() in data.split(b"\r\n", 1)[0] else ""
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

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
