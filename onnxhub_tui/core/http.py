"""One httpx client for everything: timeouts, retries with jittered backoff, safe redirects, offline guard."""

from __future__ import annotations

import contextlib
import email.utils
import logging
import os
import random
import re
import ssl
import stat
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from . import settings as _settings
from .errors import Hint, NetworkError, OfflineError
from .sources import file_url_to_path, shown
from .transport import StdlibTransport


class _NoQueries(logging.Filter):
    """httpx logs every request's URL (``--debug`` shows it): the query of a signed URL is a credential,
    so it is cut there as in our own messages (``sources.shown``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(shown(str(a)) if isinstance(a, (httpx.URL, str)) and "?" in str(a) else a
                                for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_NoQueries())

USER_AGENT = "onnxhub-tui"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_REDIRECTS = 10


def offline_requested() -> bool:
    """ONNXHUB_OFFLINE, read now (a bad value is a ``SettingsError``)."""
    return _settings.load().offline


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait. Environment overrides exist for slow links and for tests."""

    attempts: int = 5
    backoff: float = 0.5  # first wait, doubled each time, with jitter
    max_wait: float = 30.0

    @classmethod
    def from_settings(cls, settings: _settings.Settings) -> RetryPolicy:
        return cls(attempts=settings.attempts, backoff=settings.backoff, max_wait=settings.max_wait)

    @classmethod
    def from_env(cls) -> RetryPolicy:
        return cls.from_settings(_settings.load())

    def wait(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to sleep before retry number ``attempt`` (1-based)."""
        hinted = _parse_retry_after(retry_after)
        if hinted is not None:
            return min(hinted, self.max_wait)
        base = self.backoff * (2 ** (attempt - 1))
        return min(base * random.uniform(0.5, 1.0), self.max_wait)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _OfflineTransport(httpx.BaseTransport):
    """Refuses every request before any socket is opened."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise OfflineError(f"Offline mode is on: not fetching {shown(str(request.url))}.", hints=(Hint.ONLINE,))


def make_client(offline: bool | None = None, settings: _settings.Settings | None = None) -> httpx.Client:
    """The shared client. Proxies come from the usual environment variables (httpx's trust_env)."""
    settings = settings or _settings.load()
    if offline is None:
        offline = settings.offline
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=30.0,
        pool=30.0,
    )
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    mounts = {"file://": FileTransport()}  # a local hub is read through the same client (even offline)
    if offline:
        transport: httpx.BaseTransport | None = _OfflineTransport()
    elif set(urllib.request.getproxies()) - {"no"}:
        # httpx applies HTTP(S)_PROXY / NO_PROXY only when it builds the transport itself: with ours,
        # proxies from the environment would be silently ignored (corporate networks could not connect).
        transport = None
    else:
        transport = StdlibTransport(_shared_ssl_context)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,  # we follow them ourselves, re-deciding auth per hop
        headers={"User-Agent": USER_AGENT},
        transport=transport,
        mounts=mounts,
        limits=limits,
    )


_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
FILE_CHUNK = 1024 * 1024


class _FileStream(httpx.SyncByteStream):
    def __init__(self, fd: int, remaining: int) -> None:
        self._fd = fd
        self._remaining = remaining

    def __iter__(self) -> Iterator[bytes]:
        while self._remaining > 0:
            try:
                chunk = os.read(self._fd, min(FILE_CHUNK, self._remaining))
            except OSError as exc:  # the source's fault (a vanished share): transient, like a dropped link
                raise httpx.ReadError(f"read error: {exc.strerror or exc}") from None
            if not chunk:
                return
            self._remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)


class FileTransport(httpx.BaseTransport):
    """``file://`` answered like a static HTTP host (200, 206 for one ``bytes=N-[M]`` range, 404, 416),
    so the download path has no special case for a local hub. Only regular files are opened: a FIFO
    under a model's name would block the read forever."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        def fail(status: int, reason: str) -> httpx.Response:
            return httpx.Response(status, headers={"content-length": "0"}, extensions={"reason_phrase": reason.encode()})

        if request.url.host not in ("", "localhost"):
            return fail(404, f"not a local file (host {request.url.host})")
        try:
            path = file_url_to_path(str(request.url))
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return fail(404, "file not found")
        except (OSError, ValueError) as exc:
            return fail(403, getattr(exc, "strerror", None) or str(exc))
        if not stat.S_ISREG(st.st_mode):
            return fail(403, "is a directory, not a file" if stat.S_ISDIR(st.st_mode)
                        else "not a regular file (a FIFO, socket or device)")
        size = st.st_size
        start, end, status = 0, size - 1, 200
        match = _RANGE.match(request.headers.get("range", "").strip())
        if match:
            start = int(match[1])
            end = min(int(match[2]), size - 1) if match[2] else size - 1
            if start >= size or start > end:
                return httpx.Response(416, headers={"content-range": f"bytes */{size}", "content-length": "0"})
            status = 206
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # never wait on a swapped-in FIFO
        except OSError as exc:
            return fail(404 if isinstance(exc, FileNotFoundError) else 403, exc.strerror or str(exc))
        os.lseek(fd, start, os.SEEK_SET)
        headers = {"content-length": str(max(end - start + 1, 0)), "accept-ranges": "bytes"}
        if status == 206:
            headers["content-range"] = f"bytes {start}-{end}/{size}"
        if request.method == "HEAD":
            os.close(fd)
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, headers=headers, stream=_FileStream(fd, end - start + 1))


_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


def _shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle took 50-200 ms on every client,
    and the onnx.hub drop-in makes a Hub (so a client) for each call."""
    global _ssl_context  # noqa: PLW0603
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()  # honours SSL_CERT_FILE / SSL_CERT_DIR
        return _ssl_context


def is_offline(client: httpx.Client) -> bool:
    return isinstance(client._transport, _OfflineTransport)  # noqa: SLF001


@contextlib.contextmanager
def open_stream(
    client: httpx.Client,
    url: str,
    headers_for: Callable[[str], dict[str, str]],
    extra_headers: dict[str, str] | None = None,
) -> Iterator[httpx.Response]:
    """GET ``url`` following redirects; auth headers are chosen again for each hop's host,
    so a token never follows a redirect to another host. Yields the final streamed response."""
    seen: list[str] = []
    # httpx takes a URL without a host for a relative one: name the host RFC 8089 implies
    current = "file://localhost/" + url[len("file:///"):] if url.startswith("file:///") else url
    while True:
        headers = dict(extra_headers or {})
        headers.update(headers_for(current))
        request = client.build_request("GET", current, headers=headers)
        response = client.send(request, stream=True)
        if response.is_redirect and "location" in response.headers:
            target = urljoin(current, response.headers["location"])
            response.close()
            seen.append(current)
            if target in seen or len(seen) > MAX_REDIRECTS:
                raise NetworkError(f"Redirect loop fetching {shown(url)} (after {len(seen)} redirects).")
            current = target
            continue
        try:
            yield response
        finally:
            response.close()
        return


TRANSIENT_ERRORS = (httpx.TransportError,)


def describe(exc: BaseException) -> str:
    """A one-line reason for a transport error, without tokens (headers are never included)."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{name}: {text}" if text else name


def fetch_bytes(
    client: httpx.Client,
    url: str,
    headers_for: Callable[[str], dict[str, str]],
    extra_headers: dict[str, str] | None = None,
    policy: RetryPolicy | None = None,
    max_bytes: int = 512 * 1024 * 1024,
) -> tuple[httpx.Response, bytes]:
    """A small GET with retries on transient failures; returns the final response (closed) and its body."""
    policy = policy or RetryPolicy.from_env()
    last = ""
    for attempt in range(1, policy.attempts + 1):
        retry_after = None
        try:
            with open_stream(client, url, headers_for, extra_headers) as response:
                if response.status_code in RETRY_STATUSES:
                    retry_after = response.headers.get("retry-after")
                    last = f"HTTP {response.status_code}"
                else:
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise NetworkError(f"{shown(url)} sent more than {max_bytes} bytes; refusing it.")
                    return response, bytes(body)
        except OfflineError:
            raise
        except TRANSIENT_ERRORS as exc:
            last = describe(exc)
        if attempt < policy.attempts:
            time.sleep(policy.wait(attempt, retry_after))
    raise NetworkError(f"Could not fetch {shown(url)} after {policy.attempts} attempts: {last}.")
