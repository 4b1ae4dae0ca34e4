"""A Hugging Face model in the cache as one item: its ``.onnx`` and every data file it names.

Read-only (only ``core/cache`` deletes): what ``cache ls/verify/rm`` and ``local_copy`` need to treat the
model and its data as one thing with one size. Costs stat calls plus a wire walk of the local ``.onnx``
(which, for a model with external data, is small: the weights are in the data files).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InspectError, UnsafePathError
from .external_data import data_locations, hf_file_path
from .hf_entries import Listing, data_file_refs


@dataclass(frozen=True)
class HfItem:
    """``state``: "complete" (every file there at the listing's size), "partial" (the model or a data
    file missing, or a ``.part`` left), "damaged" (a size that is not the listing's, or a model that
    cannot be read), or None (nothing cached). ``files`` are the item's paths that exist."""

    state: str | None
    path: Path  # where the .onnx is (or would be)
    files: tuple[Path, ...]
    size: int  # bytes on disk of ``files``
    expected_size: int | None  # the listing's size of the model and its data, when the model is here


def local_item(cache_dir: Path, listing: Listing, model_path: str) -> HfItem:
    model = listing.file(model_path)
    path = hf_file_path(cache_dir, repo_id=listing.repo_id, commit=listing.commit, path=model_path)
    try:
        st = path.stat()
    except OSError:
        partial = path.with_name(path.name + ".part").exists()
        return HfItem("partial" if partial else None, path, (), 0, None)
    if model is None or st.st_size != model.size:
        return HfItem("damaged", path, (path,), st.st_size, None)
    try:
        refs = data_file_refs(listing, model_path, data_locations(path))
    except (InspectError, UnsafePathError):
        return HfItem("damaged", path, (path,), st.st_size, None)
    files, size, state = [path], st.st_size, "complete"
    expected = model.size
    for ref in refs:
        target = hf_file_path(cache_dir, repo_id=listing.repo_id, commit=listing.commit, path=ref.path)
        expected = expected + ref.size if ref.size is not None and expected is not None else None
        try:
            data_size = os.stat(target).st_size
        except OSError:
            state = "partial" if state == "complete" else state
            continue
        files.append(target)
        size += data_size
        if ref.size is None or data_size != ref.size:
            state = "damaged"
    return HfItem(state, path, tuple(files), size, expected)
