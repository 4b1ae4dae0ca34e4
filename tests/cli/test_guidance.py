"""CLI output that a script can count on and errors that say what to do next (issue 10 items 26, 27)."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path

import pytest

from tests.cli.conftest import REPO, run
from tests.conftest import subprocess_env



def test_download_prints_one_line_per_name_given_even_the_same_model_twice(env, server):
    result = run(["download", "mnist", "TinyNet", "MNIST", "--repo", REPO, "--yes"], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[0] == lines[2] != lines[1]
    assert Path(lines[0]).name.endswith("_mnist-12.onnx")
    assert len(server.hits_for("mnist-12.onnx")) == 1  # named twice, fetched once
    assert len(result.stderr.splitlines()) == 2  # one progress line per download


def test_an_unknown_name_suggests_close_ones_and_the_list_command(env):
    result = run(["info", "resne", "--repo", REPO], env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "No models found with name resne" in result.stderr
    assert "did you mean ResNet50" in result.stderr and "onnxhub-tui list" in result.stderr
    far = run(["download", "zzzzqqq", "--repo", REPO, "--yes"], env)
    assert far.returncode == 1 and "did you mean" not in far.stderr and "onnxhub-tui list" in far.stderr


def test_a_network_failure_names_the_flags_that_get_a_manifest(cache_dir):
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = subprocess_env(None, cache_dir, ONNXHUB_GITHUB_RAW_URL=f"http://127.0.0.1:{port}/raw",
                         ONNXHUB_GITHUB_LFS_URL=f"http://127.0.0.1:{port}/lfs")
    result = run(["list", "--repo", REPO], env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "manifest" in result.stderr
    # With no manifest cached, --offline cannot help (with one cached, a network failure falls back to it).
    assert "--repo SPEC" in result.stderr and "--demo" in result.stderr, result.stderr
    assert "repo=" not in result.stderr  # the API's words stay out of the CLI


def test_an_offline_run_without_a_cached_manifest_says_how_to_get_one(cache_dir):
    result = run(["list", "--repo", REPO, "--offline"], subprocess_env(None, cache_dir))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "--repo SPEC" in result.stderr and "--demo" in result.stderr and "ONNXHUB_OFFLINE" in result.stderr


@pytest.mark.parametrize("variable, value", [("ONNXHUB_RETRIES", "abc"), ("ONNXHUB_READ_TIMEOUT", "inf")])
def test_a_bad_environment_variable_is_a_usage_error_naming_it(cache_dir, variable, value):
    result = run(["cache", "ls"], subprocess_env(None, cache_dir, **{variable: value}))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and variable in result.stderr and "Traceback" not in result.stderr


def test_cache_rm_by_name_without_a_repo_says_to_add_one(env):
    assert run(["download", "SqueezeNet", "--repo", REPO, "--yes"], env).returncode == 0
    result = run(["cache", "rm", "squeezenet", "--yes"], env)
    assert result.returncode == 1
    assert "--repo" in result.stderr and "--demo" in result.stderr
    assert run(["cache", "rm", "squeezenet", "--yes", "--repo", REPO], env).returncode == 0


def test_an_invalid_query_is_one_line_without_usage(env):
    result = run(["list", "opset:abc", "--repo", REPO], env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "usage:" not in result.stderr, result.stderr
    assert "opset" in result.stderr


@pytest.mark.parametrize(("words", "says"), [
    (["tags:vision"], "did you mean tag:"), (["foo:bar"], "the fields are tag:"),
    (['"unterminated'], "unclosed quote"), (["-"], "a lone - negates nothing"),
])
def test_search_mistakes_are_usage_errors_not_zero_matches(env, words, says):
    result = run(["list", *words, "--repo", REPO], env)
    assert result.returncode == 2 and says in result.stderr and "of 10" not in result.stdout, result


def test_a_resumed_download_says_so_and_counts_only_the_bytes_fetched(env, hub_tree, server, root):
    entry = hub_tree.entry("ResNet50")
    data = hub_tree.files[entry["model_path"]]
    rel = Path(entry["model_path"])
    target = root / rel.parent / f"{entry['metadata']['model_sha']}_{rel.name}"
    target.parent.mkdir(parents=True)
    half = len(data) // 2
    target.with_name(target.name + ".part").write_bytes(data[:half])
    result = run(["download", "ResNet50", "--repo", REPO, "--yes"], env)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == data
    assert server.range_starts(rel.name) == [half]
    from onnxhub_tui.core.text import human_size
    assert "resumed" in result.stderr
    assert f"downloaded {human_size(len(data) - half)} more" in result.stderr, result.stderr
    assert f"downloaded {human_size(len(data))} " not in result.stderr


def test_prune_for_one_hub_keeps_a_file_another_hubs_cached_manifest_names(env, hub_tree, root, tmp_path):
    """Issue 10 item 1 through the CLI: hub B shares hub A's folders; A's MNIST-12 is not B's to delete."""
    assert run(["download", "MNIST", "--repo", REPO, "--yes"], env).returncode == 0  # caches A's manifest
    kept = next(root.rglob("*_mnist-12.onnx"))
    hub_b = tmp_path / "hub-b"
    hub_b.mkdir()
    (hub_b / "ONNX_HUB_MANIFEST.json").write_text(json.dumps(
        [e for e in hub_tree.manifest if not (e["model"] == "MNIST" and e["opset_version"] == 12)]))
    stray = kept.with_name("3" * 64 + "_mnist-old.onnx")  # named by no manifest: B's orphan
    stray.write_bytes(b"an old version")
    dry = run(["cache", "prune", "--repo", str(hub_b), "--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert "mnist-old.onnx" in dry.stdout and "mnist-12.onnx" not in dry.stdout
    assert run(["cache", "prune", "--repo", str(hub_b), "--yes"], env).returncode == 0
    assert kept.exists() and not stray.exists()


def test_info_gives_the_extracted_test_data_folder(env):
    result = run(["download", "MNIST", "--opset", "7", "--with-data", "--repo", REPO, "--yes"], env)
    assert result.returncode == 0, result.stderr
    text = run(["info", "MNIST", "--opset", "7", "--repo", REPO], env).stdout
    row = next(line for line in text.splitlines() if line.strip().startswith("test data"))
    folder = Path(row.split(None, 2)[2])
    assert (folder / "test_data_set_0" / "input_0.pb").is_file()
    doc = json.loads(run(["info", "MNIST", "--opset", "7", "--json", "--repo", REPO], env).stdout)
    assert doc["model"]["data_dir"] == str(folder)


def test_json_gives_hashes_in_lower_case_whatever_the_manifest_wrote(env, hub_tree):
    manifest = copy.deepcopy(hub_tree.manifest)  # hub_tree's entries share metadata with the session's tree
    mnist = next(e for e in manifest if e["model"] == "MNIST" and e["opset_version"] == 8)
    mnist["metadata"]["model_sha"] = mnist["metadata"]["model_sha"].upper()
    mnist["metadata"]["model_with_data_sha"] = mnist["metadata"]["model_with_data_sha"].upper()
    hub_tree.write_manifest(manifest)
    doc = json.loads(run(["info", "MNIST", "--opset", "8", "--json", "--repo", REPO], env).stdout)["model"]
    assert doc["sha256"] == mnist["metadata"]["model_sha"].lower()
    assert doc["with_data"]["sha256"] == mnist["metadata"]["model_with_data_sha"].lower()


def test_a_core_warning_is_one_cli_line_and_the_download_goes_on(env, root):
    locks = root / ".onnxhub-tui" / "locks"
    locks.parent.mkdir(parents=True)
    locks.write_text("a file where the lock folder should be")
    result = run(["download", "MNIST", "--repo", REPO, "--yes"], env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "without a lock" in line]
    assert len(warnings) == 1 and warnings[0].startswith("onnxhub-tui: warning: Cannot lock in "), result.stderr
    assert str(locks) in warnings[0]
