"""``hub.load``'s download in a helper process, while the caller imports onnx.

``import onnx`` costs about 0.8 s of CPU, most of it one C call (ml_dtypes registering its types with
numpy) that holds the GIL throughout, so a download thread would only wait it out. A script's first
``hub.load`` has that import still ahead of it: a helper process does all of ``load`` but the parse on
the other core meanwhile (``hub.verified_path``: the manifest, then the download, verified and published
under the same lock, or the cached file's SHA-256), and the caller, which never imports the core (httpx
and the cache, ~0.1 s), parses the verified file. Measured on whole processes over loopback: a 256 MB
model 1.1-1.2 s (onnx 1.20: 1.9-2.0 s); a 4 KB one 0.86-0.92 s, level with onnx 1.20 (it was 0.94-1.02 s
with the core imported before the helper started).

Whatever goes wrong in the helper (an error, a kill, no interpreter to start, a trust prompt due, a cached
file whose hash is wrong), the caller does it all in its own process as before, resuming the helper's
``.part``: the errors a user sees are the in-process ones, with their types and hints. The helper tries
each request once (a dead network costs one quick attempt, not a second round of backoff) and ends when
its parent does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
# -c rather than -m: -m puts the working folder first on sys.path, where another onnxhub_tui could be;
# the helper must run this very package, wherever the caller imported it from.
_CODE = "import sys; sys.path[0] = sys.argv[1]; from onnxhub_tui.prefetch import main; main(sys.argv[2])"


def worthwhile() -> bool:
    """Only while onnx is not imported yet (else there is nothing to overlap), with a second core to run on,
    and from a normal interpreter (a frozen app cannot start ``python -c``)."""
    if "onnx" in sys.modules or getattr(sys, "frozen", False) or not sys.executable:
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores > 1


def verified_while_importing_onnx(
    repo: str, hub_dir: str | None, model: str, opset: int | None, force: bool, silent: bool
) -> Path | None:
    """Start the helper, import onnx, wait for the helper: the model's verified file (downloaded now, or
    cached and hashed now), or None when the caller must do it itself. Ctrl-C (or any error here) stops
    the helper, whose ``.part`` stays for a resume."""
    job = json.dumps({"repo": repo, "dir": hub_dir, "model": model, "opset": opset, "force": force,
                      "silent": silent, "parent": os.getpid()})
    try:
        helper = subprocess.Popen(
            [sys.executable, "-c", _CODE, _PACKAGE_ROOT, job],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,  # the answer; progress bars go to stderr
            env={**os.environ, "ONNXHUB_RETRIES": "1"},
        )
    except OSError:
        return None
    try:
        import onnx  # noqa: F401, PLC0415 - the import this overlaps
        answer, _ = helper.communicate()
        if helper.returncode != 0:
            return None
        path = json.loads(answer.decode("utf-8", "surrogateescape").splitlines()[-1])["path"]
        return Path(path) if path else None
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    finally:
        if helper.poll() is None:
            helper.terminate()
            helper.wait()


def _exit_with_parent(parent: int) -> None:
    """Nobody will load the model once the caller is gone: end then (the .part stays for a resume). Linux
    kills us the moment it dies, so a killed ``hub.load`` stops writing at once, as without a helper;
    elsewhere a thread looks every 0.2 s."""
    killed_with_parent = False
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            import ctypes  # noqa: PLC0415

            killed_with_parent = ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    if os.getppid() != parent:  # it died before that
        os._exit(3)
    if killed_with_parent:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main(job_text: str) -> None:
    """The helper: ``hub.verified_path``, the answer on stdout as JSON; exit 0 once it is given."""
    job = json.loads(job_text)
    _exit_with_parent(job["parent"])
    try:
        from . import hub

        if job["dir"] is not None:
            hub.set_dir(job["dir"])
        path = hub.verified_path(job["model"], job["repo"], job["opset"], job["force"], job["silent"])
        sys.stdout.write(json.dumps({"path": None if path is None else os.fsdecode(path)}) + "\n")
    except BaseException:  # noqa: BLE001 - the caller does it again in its own process and reports it
        code = 1
    else:
        code = 0
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
