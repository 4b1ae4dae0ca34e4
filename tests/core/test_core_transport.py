"""core/transport.StdlibTransport against a scripted HTTP/1.1 server on loopback: every answer is written
byte by byte as RFC 9112 frames it (Content-Length, chunked, keep-alive), so each test controls exactly
what crosses the wire, including what a real server does only sometimes (closing an idle connection,
ending a body early, never answering)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from onnxhub_tui.core.http import make_client

Answer = Callable[[socket.socket, bytes], bool]  # (connection, request head) -> keep the connection open?


class ScriptedServer:
    """Accepts connections on 127.0.0.1 and answers each request with the next answer of ``answers``."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = list(answers)
        self.connections = 0
        self.requests: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while self.answers:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                self.requests.append(head)
                if not self.answers.pop(0)(conn, head):
                    return

    def close(self) -> None:
        self._sock.close()


def sized(body: bytes, keep: bool = True, declared: int | None = None) -> Answer:
    def answer(conn: socket.socket, head: bytes) -> bool:
        length = len(body) if declared is None else declared
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % length)
        if not head.startswith(b"HEAD "):
            conn.sendall(body)
        return keep
    return answer


def chunked(pieces: list[bytes], end: bool = True) -> Answer:
    def answer(conn: socket.socket, head: bytes) -> bool:
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in pieces:
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        if end:
            conn.sendall(b"0\r\n\r\n")
        return end
    return answer


def silent(seconds: float) -> Answer:
    def answer(conn: socket.socket, head: bytes) -> bool:
        threading.Event().wait(seconds)
        return False
    return answer


@pytest.fixture
def serve() -> Iterator[Callable[[list[Answer]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(answers: list[Answer]) -> ScriptedServer:
        servers.append(ScriptedServer(answers))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def _get(client: httpx.Client, url: str, method: str = "GET") -> bytes:
    with client.stream(method, url) as response:
        return b"".join(response.iter_raw())


def test_a_kept_alive_connection_carries_the_next_requests(serve):
    server = serve([sized(b"one"), sized(b"", ), sized(b"three")])
    with make_client() as client:
        assert _get(client, server.url + "/a") == b"one"
        assert _get(client, server.url + "/b", "HEAD") == b""
        assert _get(client, server.url + "/c") == b"three"
    assert server.connections == 1
    assert [r.split(b" ")[0] for r in server.requests] == [b"GET", b"HEAD", b"GET"]


def test_a_connection_the_server_closed_while_idle_is_not_reused(serve):
    server = serve([sized(b"first", keep=False), sized(b"second")])
    with make_client() as client:
        assert _get(client, server.url + "/a") == b"first"
        threading.Event().wait(0.1)  # the server has closed it by now
        assert _get(client, server.url + "/b") == b"second"
    assert server.connections == 2


def test_a_chunked_body_is_read_whole(serve):
    server = serve([chunked([b"a" * 10, b"b" * 70000, b"c"])])
    with make_client() as client:
        assert _get(client, server.url + "/x") == b"a" * 10 + b"b" * 70000 + b"c"


def test_a_body_cut_short_is_a_protocol_error_not_a_short_file(serve):
    server = serve([sized(b"x" * 50, keep=False, declared=100)])
    with make_client() as client, pytest.raises(httpx.RemoteProtocolError, match="50 bytes missing"):
        _get(client, server.url + "/x")


def test_a_chunked_body_cut_short_is_a_protocol_error(serve):
    server = serve([chunked([b"a" * 10], end=False)])
    with make_client() as client, pytest.raises(httpx.RemoteProtocolError):
        _get(client, server.url + "/x")


def test_a_server_that_never_answers_is_a_read_timeout(serve, monkeypatch):
    monkeypatch.setenv("ONNXHUB_READ_TIMEOUT", "0.3")
    server = serve([silent(5)])
    with make_client() as client, pytest.raises(httpx.ReadTimeout):
        _get(client, server.url + "/x")


def test_a_closed_port_is_a_connect_error():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    with make_client() as client, pytest.raises(httpx.ConnectError):
        _get(client, f"http://127.0.0.1:{port}/x")


def test_a_disconnect_before_the_answer_is_a_protocol_error(serve):
    server = serve([lambda conn, head: False])  # reads the request, closes without a word
    with make_client() as client, pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        _get(client, server.url + "/x")
