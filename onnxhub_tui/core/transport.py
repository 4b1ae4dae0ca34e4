"""httpx's transport for plain and TLS HTTP/1.1, on the standard library's ``http.client``.

httpcore and h11 handle every socket read in Python (about 0.25 s of CPU per 256 MB, the body copied
three times); ``http.client`` reads the body in C straight into the bytes it returns. A whole
``onnxhub-tui download`` of 256 MB over loopback took 0.58-0.63 s instead of 0.7-0.9 s, and the process
imports neither httpcore nor h11. httpx keeps everything above the transport: the request
and response models, headers, timeouts, decoding, proxies from the environment (``http.make_client``
uses httpx's own transport when one is set) and its exception classes, which this module raises.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import httpx

READ_SIZE = 1024 * 1024  # most bytes one read hands over; a read returns what has arrived, never waits for more
IDLE_PER_HOST = 4
T = TypeVar("T")
_Key = tuple[str, str, int]


@contextlib.contextmanager
def _mapped(kind: str) -> Iterator[None]:
    """The standard library's errors as httpx's, so callers see one family (``httpx.TransportError``)."""
    try:
        yield
    except httpx.TransportError:
        raise
    except TimeoutError as exc:
        raise (httpx.ConnectTimeout if kind == "connect" else httpx.ReadTimeout)(str(exc) or "timed out") from exc
    except http.client.IncompleteRead as exc:
        raise httpx.RemoteProtocolError(
            f"peer closed connection without sending complete message body ({exc.partial and len(exc.partial)} "
            f"bytes read, {exc.expected} more expected)") from exc
    except http.client.RemoteDisconnected as exc:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
    except http.client.HTTPException as exc:
        raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}") from exc
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise (httpx.ConnectError if kind == "connect" else httpx.ReadError)(str(exc)) from exc
    except OSError as exc:
        error = {"connect": httpx.ConnectError, "write": httpx.WriteError}.get(kind, httpx.ReadError)
        raise error(exc.strerror or str(exc)) from exc


def _readable(sock: socket.socket) -> bool:
    if hasattr(select, "poll"):  # select() fails on descriptors past FD_SETSIZE
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


class _Body(httpx.SyncByteStream):
    """A response body, read as it arrives; the connection goes back to the pool once it was read whole."""

    def __init__(self, pool: StdlibTransport, key: _Key, conn: http.client.HTTPConnection,
                 response: http.client.HTTPResponse) -> None:
        self._pool, self._key, self._conn, self._response = pool, key, conn, response
        self._failed = False

    def _read(self, read: Callable[[], T]) -> T:
        try:
            with _mapped("read"):
                return read()
        except BaseException:
            self._failed = True
            raise

    def _ended(self) -> None:
        left = self._response.length  # bytes Content-Length still promises (None: chunked or until close)
        if left:
            self._failed = True
            raise httpx.RemoteProtocolError(
                f"peer closed connection without sending complete message body ({left:,} bytes missing)")

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._read(lambda: self._response.read1(READ_SIZE)):
            yield chunk
        self._ended()

    def close(self) -> None:
        response, conn = self._response, self._conn
        # Whole: a chunked body's end closes its reader; a sized one has no bytes left (HEAD, 204 and 304 had none).
        whole = response.isclosed() if response.chunked else response.length == 0
        reusable = whole and not self._failed and not response.will_close and conn.sock is not None
        response.close()
        if reusable:
            self._pool.put_idle(self._key, conn)
        else:
            conn.close()


class StdlibTransport(httpx.BaseTransport):
    """HTTP/1.1 over ``http.client``, keeping a few idle connections per host. ``tls_context`` is called
    for the first ``https://`` request only, so plain http never loads a CA bundle."""

    def __init__(self, tls_context: Callable[[], ssl.SSLContext]) -> None:
        self._tls_context = tls_context
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def put_idle(self, key: _Key, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < IDLE_PER_HOST:
                idle.append(conn)
                return
        conn.close()

    def _take_idle(self, key: _Key) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                conn = idle.pop()
            # An idle socket that is readable was closed by the server (or sent garbage): not reused.
            if conn.sock is not None and not _readable(conn.sock):
                return conn
            conn.close()

    def _connect(self, key: _Key, timeout: dict[str, float | None]) -> http.client.HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=timeout.get("connect"), context=self._tls_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout.get("connect"))
        with _mapped("connect"):
            conn.connect()
        return conn

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{url.scheme}://'.")
        host = url.raw_host.decode("ascii")  # an international name in its ASCII (IDNA) form, as it goes out
        key: _Key = (url.scheme, host, url.port or (443 if url.scheme == "https" else 80))
        timeout = request.extensions.get("timeout", {})
        body = request.read()
        conn = self._take_idle(key)
        reused = conn is not None
        while True:
            if conn is None:
                conn = self._connect(key, timeout)
            try:
                response = self._exchange(conn, request, body, timeout)
                break
            except (httpx.RemoteProtocolError, httpx.WriteError, httpx.ReadError):
                conn.close()
                if not reused or request.method not in ("GET", "HEAD"):
                    raise
                conn, reused = None, False  # a kept-alive connection the server had dropped: once more, fresh
            except BaseException:
                conn.close()
                raise
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.getheaders()]
        return httpx.Response(
            response.status,
            headers=headers,
            stream=_Body(self, key, conn, response),
            extensions={"http_version": b"HTTP/1.0" if response.version == 10 else b"HTTP/1.1",
                        "reason_phrase": (response.reason or "").encode("latin-1", "replace")},
        )

    def _exchange(self, conn: http.client.HTTPConnection, request: httpx.Request, body: bytes,
                  timeout: dict[str, float | None]) -> http.client.HTTPResponse:
        target = request.url.raw_path.decode("ascii")
        with _mapped("write"):
            if conn.sock is not None:
                conn.sock.settimeout(timeout.get("write"))
            conn.putrequest(request.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in request.headers.raw:
                conn.putheader(name, value)
            conn.endheaders(body or None)
        with _mapped("read"):
            if conn.sock is not None:
                conn.sock.settimeout(timeout.get("read"))
            return conn.getresponse()

    def close(self) -> None:
        with self._lock:
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()
