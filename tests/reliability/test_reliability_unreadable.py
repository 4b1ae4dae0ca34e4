"""An unreadable folder or file in the cache is a warning, never skipped in silence (issue 10 item 9), also
when the tests run as root (which reads any folder, so test_core_local_copy's chmod test skips): a path
longer than PATH_MAX cannot be opened or stat'ed by its path, by anyone."""

from __future__ import annotations

import os

from onnxhub_tui.core import cache
from onnxhub_tui.core.client import Hub
from tests.conftest import REPO

NAME = "n" * 200
PATH_MAX = 4096


def _beyond_path_max(top) -> None:
    """``top/long/NAME/NAME/...`` made with dir_fd (mkdir by path fails there too): the last folder's path
    is past PATH_MAX, with a model inside; its parent holds a file whose own path crosses PATH_MAX."""
    os.mkdir(top / "long")
    length = len(os.fsencode(top / "long"))
    fd = os.open(top / "long", os.O_RDONLY)
    try:
        while length <= PATH_MAX:
            if length + 1 + 250 > PATH_MAX:  # this folder is readable, this file's path is not
                os.close(os.open("f" * 240 + ".onnx", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
            os.mkdir(NAME, dir_fd=fd)
            inner = os.open(NAME, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
            length += 1 + len(NAME)
        os.close(os.open("m.onnx", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)


def test_a_folder_or_file_the_scan_cannot_open_is_a_warning_even_as_root(server, cache_dir):
    with Hub(REPO, cache_dir) as hub:
        hub.download(hub.manifest().find("MNIST", 8))
        _beyond_path_max(cache_dir)
        for report in (hub.cache_report(), cache.scan(cache_dir, None)):  # cache_report raised ENAMETOOLONG
            assert any("long/" in w and "its files are not listed" in w for w in report.warnings), report.warnings
            assert any("ffff" in w and "listed without its size" in w for w in report.warnings), report.warnings
            assert any(f.path.name.endswith("_mnist-8.onnx") for f in report.files)  # the rest is listed
