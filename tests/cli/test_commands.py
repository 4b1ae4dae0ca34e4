"""The headless CLI through its real entry point, in subprocesses, against a loopback hub."""

from __future__ import annotations

import copy
import hashlib
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.conftest import BIN, REPO, run
from tests.conftest import subprocess_env
from tests.support.hubserver import Fault

LIST_KEYS = {"model", "opset", "path", "bytes", "sha256", "tags", "onnx_version", "has_test_data", "cached"}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_list_prints_a_table_that_fits_80_columns(env):
    result = run(["list", "--repo", REPO], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["MODEL", "OPSET", "SIZE"]
    assert {line.split()[0] for line in lines[1:]} >= {"MNIST", "MNIST-12", "ResNet50", "Texty", "TinyNet"}
    assert sum(line.split()[0] == "MNIST" for line in lines[1:]) == 3  # opsets 7, 8, 12
    assert max(len(line) for line in lines) <= 80
    assert "10 of 10 models in acme/models:main" in result.stderr


def test_list_filters_with_the_search_language(env):
    def names(*query: str) -> list[str]:
        result = run(["list", "--repo", REPO, *query], env)
        assert result.returncode == 0, result.stderr
        return [line.split()[0] for line in result.stdout.splitlines()[1:]]

    assert names("tag:text") == ["Texty"]
    assert names("mnist", "opset:>=12") == ["MNIST", "MNIST-12"]
    assert "Texty" not in names("-tag:text")
    assert names("size:>50KB") == ["DenseNet-121", "ResNet50"]


def test_list_json_is_stable_and_complete(env, hub_tree):
    result = run(["--repo", REPO, "list", "--json", "tag:classification"], env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "onnxhub-tui/list" and doc["version"] == 1
    assert doc["repo"] == REPO and doc["trusted"] is False and doc["manifest_state"] == "fresh"
    assert doc["query"] == "tag:classification" and doc["total"] == len(hub_tree.manifest)
    assert doc["count"] == len(doc["models"]) == 8
    assert all(set(m) == LIST_KEYS for m in doc["models"])
    mnist8 = next(m for m in doc["models"] if m["model"] == "MNIST" and m["opset"] == 8)
    assert mnist8["sha256"] == hub_tree.entry("MNIST", 8)["metadata"]["model_sha"]
    assert mnist8["cached"] is None and mnist8["has_test_data"] is True


def test_info_shows_every_field_and_the_io_ports(env, hub_tree):
    result = run(["info", "mnist", "--repo", REPO], env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("MNIST  (opset 12, acme/models:main)")
    assert "7, 8, 12  (showing 12)" in out
    assert hub_tree.entry("MNIST", 12)["metadata"]["model_sha"] in out
    assert "validated/vision/classification/mnist/model/mnist-12.tar.gz" in out
    inputs = out.split("\ninputs\n")[1].splitlines()[0].split()
    assert inputs[0] == "x" and inputs[-2:] == ["[1,", "4]"]
    assert "io ports: not listed" in run(["info", "Texty", "--repo", REPO, "--no-remote"], env).stdout
    read = run(["info", "Texty", "--repo", REPO], env).stdout  # not listed: read from the model's header
    assert "read remotely: " in read and "\ninputs\n  x  tensor(float)  [1, 4]" in read


def test_info_json_for_one_opset(env, hub_tree):
    result = run(["info", "MNIST", "--opset", "8", "--json", "--repo", REPO], env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "onnxhub-tui/info" and doc["version"] == 1
    model = doc["model"]
    assert LIST_KEYS <= set(model)
    assert model["opset"] == 8 and model["opsets"] == [7, 8, 12]
    assert model["io_ports"]["inputs"][0]["name"] == "x" and model["io_ports"]["inputs"][0]["shape"] == [1, 4]
    assert model["with_data"]["sha256"] == hub_tree.entry("MNIST", 8)["metadata"]["model_with_data_sha"]
    assert model["local_path"] is None and model["metadata"]["tags"] == ["vision", "classification", "mnist"]


def test_errors_are_one_line_and_exit_1(env):
    result = run(["info", "no-such-model", "--repo", REPO], env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "No models found with name no-such-model" in result.stderr
    result = run(["info", "MNIST", "--opset", "99", "--repo", REPO], env)
    assert result.returncode == 1 and "Valid opsets: [7, 8, 12]" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run(["info", "no-such-model", "--repo", REPO, "--debug"], env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


@pytest.mark.parametrize("argv", [
    ["list", "--bogus"], ["download"], ["--jobs", "0", "list"], ["info"], ["list", "opset:abc"],
    ["cache"], ["cache", "rm"], ["manifest", "build"], ["--repo", "not//a/spec", "list"],
    ["--demo", "--repo", REPO, "list"], ["download", "MNIST", "--jobs", "x"],
])
def test_usage_errors_exit_2(argv, env):
    result = run(argv, env)
    assert result.returncode == 2, (argv, result.stdout, result.stderr)
    assert result.stderr.strip() and "Traceback" not in result.stderr


def test_untrusted_repo_refuses_without_a_terminal(env, server, root):
    result = run(["download", "MNIST", "--repo", REPO], env)
    assert result.returncode == 1
    assert "not a trusted repo" in result.stderr and "--yes" in result.stderr
    assert result.stdout == ""
    assert not server.hits_for(".onnx") and not root.joinpath("validated").exists()


def test_download_several_models_at_once(env, hub_tree, root, server):
    names = ["MNIST", "ResNet50", "SqueezeNet", "DenseNet-121", "TinyNet"]
    result = run(["download", *names, "--repo", REPO, "--yes", "--jobs", "3"], env)
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert len(paths) == len(names)
    for name, path in zip(names, paths):  # printed in the order given
        entry = hub_tree.entry(name)
        assert path.is_file() and path.is_relative_to(root)
        assert path.name == f"{entry['metadata']['model_sha']}_{Path(entry['model_path']).name}"
        assert sha(path) == entry["metadata"]["model_sha"]
    lines = result.stderr.splitlines()  # not a terminal: one plain line per file
    assert len(lines) == len(names) and all(": downloaded " in line for line in lines)
    again = run(["download", *names, "--repo", REPO], env)  # cached: no trust question, no transfer
    assert again.returncode == 0 and again.stdout == result.stdout
    assert all(line.endswith("already cached") for line in again.stderr.splitlines())
    assert len(server.hits_for(".onnx")) == len(names)


def test_download_with_data_prints_the_extracted_folder(env, hub_tree):
    result = run(["download", "MNIST", "--opset", "7", "--with-data", "--repo", REPO, "--trust"], env)
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    # The folder holding the model and its test data, as onnx.hub's download_model_with_test_data gives it.
    assert folder.name == "mnist-7" and (folder / "test_data_set_0" / "input_0.pb").is_file()
    no_data = run(["download", "Tiny-preproc", "--with-data", "--repo", REPO, "--yes"], env)
    assert no_data.returncode == 1 and "no model-with-data archive" in no_data.stderr


def test_one_failed_download_does_not_stop_the_others(env, hub_tree, server):
    server.add_fault("squeezenet", Fault("status", times=-1, status=404))
    result = run(["download", "ResNet50", "SqueezeNet", "TinyNet", "--repo", REPO, "--yes"], env)
    assert result.returncode == 1
    assert len(result.stdout.splitlines()) == 2
    assert "SqueezeNet (opset 9): Could not download" in result.stderr
    assert "1 of 3 download(s) failed" in result.stderr


def test_ctrl_c_exits_130_and_the_next_run_resumes(env, hub_tree, server, root):
    server.add_fault("resnet50", Fault("trickle", times=1, seconds=0.02))  # ~80 KB at 1 KB per 20 ms
    proc = subprocess.Popen([str(BIN), "download", "ResNet50", "--repo", REPO, "--yes"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = root / "validated/vision/classification/resnet50/model"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        parts = list(folder.glob("*.part*")) if folder.is_dir() else []
        if parts and parts[0].stat().st_size > 8 * 1024:
            break
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail("the download never started")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "interrupted" in err and out == ""
    part = next(folder.glob("*.onnx.part"))
    assert part.stat().st_size > 8 * 1024
    result = run(["download", "ResNet50", "--repo", REPO, "--yes"], env)
    assert result.returncode == 0, result.stderr
    assert sha(Path(result.stdout.strip())) == hub_tree.entry("ResNet50")["metadata"]["model_sha"]
    resumed = [h for h in server.hits_for("resnet50") if h.range_start]
    assert resumed and resumed[-1].range_start > 8 * 1024


def test_cache_ls_table_and_json(env, hub_tree, root):
    assert run(["download", "MNIST", "ResNet50", "--repo", REPO, "--yes"], env).returncode == 0
    table = run(["cache", "ls", "--repo", REPO], env)
    assert table.returncode == 0, table.stderr
    assert "MNIST (12)" in table.stdout and "ResNet50 (9)" in table.stdout
    assert "validated/vision/classification/mnist/model/" in table.stdout
    rows = [line for line in table.stdout.splitlines() if line.startswith("  ")]
    assert len(rows) == 2 and max(len(line) for line in rows) <= 80  # paths above them may be longer
    doc = json.loads(run(["cache", "ls", "--json", "--repo", REPO], env).stdout)
    assert doc["schema"] == "onnxhub-tui/cache-ls" and doc["version"] == 1
    assert doc["root"] == str(root) and doc["count"] == 2 == len(doc["files"])
    assert doc["bytes"] == sum(f["bytes"] for f in doc["files"])
    by_model = {f["model"]: f for f in doc["files"]}
    assert by_model["MNIST"]["state"] == "complete" and by_model["MNIST"]["opset"] == 12
    assert Path(by_model["ResNet50"]["path"]).is_file()
    assert set(by_model["MNIST"]) == {"path", "rel", "group", "bytes", "state", "kind", "model", "opset",
                                      "expected_sha256", "in_use", "link", "members"}
    # Without --repo nothing is fetched: files are still listed, by their names.
    plain = json.loads(run(["cache", "ls", "--json"], env).stdout)
    assert plain["count"] == 2 and {f["model"] for f in plain["files"]} == {None}


def test_cache_verify_finds_a_corrupted_file(env, root):
    assert run(["download", "MNIST", "TinyNet", "--repo", REPO, "--yes"], env).returncode == 0
    ok = run(["cache", "verify"], env)
    assert ok.returncode == 0 and ok.stdout.count("ok    ") == 2
    victim = next(root.rglob("*_tinynet-13.onnx"))
    victim.write_bytes(b"\x00" + victim.read_bytes()[1:])
    bad = run(["cache", "verify", "TinyNet", "--repo", REPO], env)
    assert bad.returncode == 1
    assert bad.stdout.startswith("BAD   ") and "tinynet-13.onnx" in bad.stdout and "MNIST" not in bad.stdout


def test_cache_rm_dry_run_deletes_nothing_then_rm_deletes(env, root):
    assert run(["download", "MNIST", "ResNet50", "--repo", REPO, "--yes"], env).returncode == 0
    before = sorted(p for p in root.rglob("*") if p.is_file() and ".onnxhub-tui" not in p.parts)
    dry = run(["cache", "rm", "ResNet50", "validated/vision/classification/mnist", "--dry-run", "--repo", REPO], env)
    assert dry.returncode == 0, dry.stderr
    assert "Would delete 2 item(s)" in dry.stderr
    assert sorted(p for p in root.rglob("*") if p.is_file() and ".onnxhub-tui" not in p.parts) == before
    refused = run(["cache", "rm", "ResNet50", "--repo", REPO], env)  # no terminal, no --yes
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert all(p.exists() for p in before)
    done = run(["cache", "rm", "ResNet50", "--yes", "--repo", REPO], env)
    assert done.returncode == 0 and "Deleted 1 item(s)" in done.stderr
    assert not list(root.rglob("*resnet50*"))
    assert list(root.rglob("*_mnist-12.onnx"))
    missing = run(["cache", "rm", "no-such-thing", "--yes"], env)
    assert missing.returncode == 1 and "matches 'no-such-thing'" in missing.stderr


def test_cache_prune_removes_abandoned_parts_and_with_repo_orphans(env, root):
    assert run(["download", "MNIST", "--repo", REPO, "--yes"], env).returncode == 0
    folder = next(root.rglob("*_mnist-12.onnx")).parent
    part = folder / ("0" * 64 + "_mnist-8.onnx.part")
    part.write_bytes(b"partial")
    stray = folder / ("1" * 64 + "_gone.onnx")
    stray.write_bytes(b"a model the manifest no longer names")
    other_hub = root / "another" / "hub" / ("2" * 64 + "_theirs.onnx")  # the cache is shared by every hub
    other_hub.parent.mkdir(parents=True)
    other_hub.write_bytes(b"a model of another hub")
    dry = run(["cache", "prune", "--dry-run"], env)
    assert dry.returncode == 0 and "Would delete 1 item(s)" in dry.stderr and part.exists()
    assert run(["cache", "prune", "--yes"], env).returncode == 0
    assert not part.exists() and stray.exists()  # orphans need the manifest they are orphans of
    states = {Path(f["path"]).name: f["state"] for f in
              json.loads(run(["cache", "ls", "--json", "--repo", REPO], env).stdout)["files"]}
    assert states[stray.name] == "orphan" and states[other_hub.name] == "complete"
    assert run(["cache", "prune", "--yes", "--repo", REPO], env).returncode == 0
    assert not stray.exists() and list(root.rglob("*_mnist-12.onnx"))
    assert other_hub.exists()


def test_cache_dir(env, root, tmp_path):
    assert run(["cache", "dir"], env).stdout.strip() == str(root)
    assert run(["cache", "dir", "--cache-dir", str(tmp_path / "c")], env).stdout.strip() == str(tmp_path / "c")
    assert run(["--cache-dir", str(tmp_path / "d"), "cache", "dir"], env).stdout.strip() == str(tmp_path / "d")


def test_manifest_text_is_printed_literally_without_control_characters(env, hub_tree):
    manifest = copy.deepcopy(hub_tree.manifest)  # its metadata dicts are shared with the session's tree
    manifest[0]["model"] = "Evil\x1b[2J\x1b]0;pwned\x07[bold]Name\r"
    manifest[0]["metadata"]["tags"] = ["\x1b[31mred", "bidi\u202eoverride"]
    hub_tree.write_manifest(manifest)
    for argv in (["list", "--repo", REPO], ["info", manifest[0]["model"], "--repo", REPO],
                 ["list", "--repo", REPO, "--json"]):
        result = run(argv, env)
        assert result.returncode == 0, result.stderr
        assert not any(ch in result.stdout + result.stderr for ch in "\x1b\x07\r\u202e"), argv
    listed = run(["list", "--repo", REPO, "Evil"], env).stdout
    assert "Evil[bold]Name" in listed and "red, bidioverride" in listed


def test_bare_command_without_a_terminal_explains_itself(env):
    result = run(["--repo", REPO], env)
    assert result.returncode == 1
    assert "terminal" in result.stderr and "Traceback" not in result.stderr


def test_offline_uses_the_cached_manifest(env, server):
    assert run(["list", "--repo", REPO], env).returncode == 0
    hits = len(server.hits)
    offline = run(["list", "--repo", REPO, "--offline", "--json"], env)
    assert offline.returncode == 0 and json.loads(offline.stdout)["manifest_state"] == "offline"
    assert len(server.hits) == hits
    fresh_cache = dict(env, ONNX_HOME=env["ONNX_HOME"] + "-empty")
    result = run(["list", "--repo", REPO, "--offline"], fresh_cache)
    assert result.returncode == 1 and "Offline mode is on" in result.stderr


def test_the_real_zoo_manifest_lists_and_checks_cleanly(real_manifest, tmp_path, cache_dir):
    folder = tmp_path / "zoo"
    folder.mkdir()
    (folder / "ONNX_HUB_MANIFEST.json").write_bytes(real_manifest.read_bytes())
    env = subprocess_env(None, cache_dir, COLUMNS="80")
    listed = run(["list", "--repo", str(folder)], env)
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()[1:]
    assert len(rows) == 184 and max(len(line) for line in rows) <= 80
    info = run(["info", "alexnet", "--repo", str(folder)], env)
    assert "validated/vision/classification/alexnet/model/bvlcalexnet-12.onnx" in info.stdout  # never cut
    assert "extra ports: features" in info.stdout
    checked = run(["manifest", "check", str(folder)], env)
    assert checked.returncode == 0 and "184 entries" in checked.stdout
