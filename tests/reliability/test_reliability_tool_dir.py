"""The tool's own files in the cache (cached manifests, locks, stored headers, hf listings) never land outside
it: a link in place of ``.onnxhub-tui`` or one of its folders that leads out is refused, the work goes on
without that file, and the folder the link points to stays empty. An atomic write replaces a link at its
final name instead of writing through it."""

from __future__ import annotations

import logging

import pytest

from onnxhub_tui.core import remote_store
from onnxhub_tui.core.client import Hub
from onnxhub_tui.core.diskio import write_atomic

REPO = "acme/models:main"


@pytest.mark.parametrize("link", [".onnxhub-tui", ".onnxhub-tui/manifests", ".onnxhub-tui/locks"])
def test_a_link_out_of_the_cache_in_the_tools_folder_gets_nothing_written(server, cache_dir, tmp_path, caplog, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    (cache_dir / link).parent.mkdir(parents=True, exist_ok=True)
    (cache_dir / link).symlink_to(outside, target_is_directory=True)
    with caplog.at_level(logging.WARNING, logger="onnxhub_tui"), Hub(REPO, cache_dir) as hub:
        entry = hub.manifest().find("MNIST", 8)
        path = hub.download(entry)
        assert hub.local_copy(entry).state == "complete" and path.is_file()
    assert list(outside.rglob("*")) == []  # no manifest copy, no lock, nothing
    locked_out = link != ".onnxhub-tui/manifests"
    said = [r.getMessage() for r in caplog.records if "leads out of the cache" in r.getMessage()]
    assert bool(said) == locked_out, said  # the lock's warning; a manifest copy not kept is not worth one


def test_a_stored_header_is_not_written_through_a_link_out(cache_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (cache_dir / ".onnxhub-tui").mkdir(parents=True)
    (cache_dir / ".onnxhub-tui" / remote_store.FOLDER).symlink_to(outside, target_is_directory=True)
    assert remote_store.save(cache_dir, "a" * 64, {"inputs": []}) is None
    assert list(outside.iterdir()) == []


def test_an_atomic_write_replaces_a_link_at_its_name_and_leaves_its_target(tmp_path):
    target = tmp_path / "users-file.txt"
    target.write_text("the user's")
    link = tmp_path / "manifest.json"
    link.symlink_to(target)
    write_atomic(link, b"[]")
    assert not link.is_symlink() and link.read_bytes() == b"[]"
    assert target.read_text() == "the user's"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []  # no temporary file left
