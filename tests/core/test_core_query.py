"""The search language shared by the TUI and the CLI: what each kind of term matches."""

from __future__ import annotations

import pytest

from onnxhub_tui.core.errors import QueryError
from onnxhub_tui.core.manifest import parse_entries, parse_manifest
from onnxhub_tui.core.query import parse_query


def _e(model, path, opset, tags=(), size=None):
    meta = {"tags": list(tags)}
    if size is not None:
        meta["model_bytes"] = size
    return {"model": model, "model_path": path, "opset_version": opset, "metadata": meta}


ENTRIES = parse_entries([
    _e("ResNet50", "validated/vision/classification/resnet/model/resnet50-v1-12.onnx", 12,
       ["vision", "classification"], 97_000_000),
    _e("ResNet50-int8", "validated/vision/classification/resnet/model/resnet50-v1-12-int8.onnx", 12,
       ["vision", "classification", "int8"], 25_000_000),
    _e("MNIST", "validated/vision/classification/mnist/model/mnist-8.onnx", 8, ["vision", "mnist"], 26_000),
    _e("BERT-Squad", "validated/text/machine_comprehension/bert-squad/model/bertsquad-10.onnx", 10,
       ["text", "machine comprehension"], 435_000_000),
    _e("Unsized", "other/unsized.onnx", 17, ["misc"]),
]).entries


def names(query) -> list[str]:
    return [e.model for e in parse_query(query).filter(ENTRIES)]


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["ResNet50", "ResNet50-int8", "MNIST", "BERT-Squad", "Unsized"]),
    ("resnet", ["ResNet50", "ResNet50-int8"]),  # a plain word: name, tags or path, any case
    ("MACHINE_COMPREHENSION", ["BERT-Squad"]),  # ... the path
    ("int8", ["ResNet50-int8"]),
    ("tag:mnist", ["MNIST"]),
    ("tag:TEXT", ["BERT-Squad"]),
    ("name:net50", ["ResNet50", "ResNet50-int8"]),
    ("path:text/", ["BERT-Squad"]),
    ("opset:>=12", ["ResNet50", "ResNet50-int8", "Unsized"]),
    ("opset:<10", ["MNIST"]),
    ("opset:10", ["BERT-Squad"]),
    ("opset:=8", ["MNIST"]),
    ("opset:!=12", ["MNIST", "BERT-Squad", "Unsized"]),
    ("size:<50MB", ["ResNet50-int8", "MNIST"]),  # an entry without a size never matches a size term
    ("size:>=100MB", ["BERT-Squad"]),
    ("size:<30KB", ["MNIST"]),
    ("size:<0.0001GiB", ["MNIST"]),
    ("-tag:vision", ["BERT-Squad", "Unsized"]),
    ("resnet -int8", ["ResNet50"]),
    ("tag:vision opset:>=12 size:<50MB", ["ResNet50-int8"]),  # terms combine with AND
    ('"machine comprehension"', ["BERT-Squad"]),  # quotes make one term
    ('tag:"machine comprehension"', ["BERT-Squad"]),  # a field's value may be quoted (13 zoo tags have spaces)
    ('-"machine comprehension"', ["ResNet50", "ResNet50-int8", "MNIST", "Unsized"]),
    ('tag:"machine comprehension" -tag:"body analysis"', ["BERT-Squad"]),
    ('"foo:bar"', []),  # a quoted word with a colon is a plain word, not a field
    ("size:<50 MB", ["ResNet50-int8", "MNIST"]),  # a unit after a space belongs to the number
])
def test_terms(query, expected):
    assert names(query) == expected


def test_argv_words_are_terms_and_spaces_group():
    assert [e.model for e in parse_query(["tag:vision", "-int8", "opset:>=12"]).filter(ENTRIES)] == ["ResNet50"]
    assert [e.model for e in parse_query(["machine comprehension"]).filter(ENTRIES)] == ["BERT-Squad"]
    assert [e.model for e in parse_query(["tag:machine comprehension"]).filter(ENTRIES)] == ["BERT-Squad"]


@pytest.mark.parametrize(("query", "says"), [
    ("opset:abc", "opset:>=12"),
    ("opset:5MB", "plain number"),
    ("size:3furlongs", "unknown unit"),
    ("tag:", "needs a value"),
    ("size:", "needs a value"),
    ("opset:=>12", "needs a number"),
    ("tags:vision", r"unknown field tags: \(did you mean tag:\?\); the fields are tag:, name:"),
    ("foo:bar", "unknown field foo:; the fields are tag:"),
    ("-tgs:vision", "did you mean tag:"),
    ('"unterminated', "unclosed quote"),
    ('tag:"machine comprehension', "unclosed quote"),
    ("-", "a lone - negates nothing"),
    ("resnet - int8", "a lone - negates nothing"),
])
def test_bad_terms_say_how_to_write_them(query, says):
    with pytest.raises(QueryError, match=says) as info:
        parse_query(query)
    assert isinstance(info.value, AssertionError)


def test_on_the_real_manifest(real_manifest):
    entries = parse_manifest(real_manifest.read_bytes(), "real").entries
    found = parse_query("tag:vision opset:>=12 size:<50MB -int8").filter(entries)
    assert found
    for e in found:
        assert "vision" in [t.lower() for t in e.tag_list] or any("vision" in t.lower() for t in e.tag_list)
        assert e.opset >= 12 and e.model_bytes is not None and e.model_bytes < 50e6
        assert "int8" not in e.search_text
    assert {e.model for e in parse_query("name:resnet50").filter(entries)} >= {"ResNet50"}
    spaced = parse_query('tag:"object detection segmentation"').filter(entries)
    assert spaced and all("object detection segmentation" in e.tag_list for e in spaced)
