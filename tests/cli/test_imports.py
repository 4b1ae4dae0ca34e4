"""The CLI stays thin: a subcommand loads neither Textual nor (without bars) rich, and leaves the GC as it found it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import subprocess_env

CODE = """
import sys
from onnxhub_tui.cli import main
code = main(sys.argv[1:])
loaded = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'})
print(code, ','.join(loaded))
"""


def _one_model_hub(tmp_path: Path) -> Path:
    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "ONNX_HUB_MANIFEST.json").write_text(json.dumps([{
        "model": "m", "model_path": "m/m.onnx", "onnx_version": "1.14", "opset_version": 13,
        "metadata": {"model_sha": "0" * 64, "model_bytes": 1, "tags": []}}]))
    return hub


def test_list_and_cache_commands_load_no_textual_and_no_rich(tmp_path, cache_dir):
    hub = _one_model_hub(tmp_path)
    env = subprocess_env(None, cache_dir)
    for argv in (["list", "--repo", str(hub), "--json"], ["info", "m", "--repo", str(hub)], ["cache", "ls"]):
        result = subprocess.run([sys.executable, "-c", CODE, *argv], env=env, capture_output=True, text=True,
                                timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "0 ", (argv, result.stdout[-200:])


GC_CODE = """
import gc, json, sys
hub, state = sys.argv[1], sys.argv[2]
if state == "off":
    gc.disable()
import onnxhub_tui.cli as cli
seen = [("import", gc.isenabled())]
frozen = gc.get_freeze_count()
for argv in (["list", "--repo", hub, "--json"], ["info", "nope", "--repo", hub], ["cache", "dir"], ["--bogus"]):
    try:
        cli.main(argv)
    except SystemExit:  # argparse's usage error
        pass
    seen.append((argv[0], gc.isenabled()))
print(json.dumps({"seen": seen, "frozen_more": gc.get_freeze_count() - frozen}))
"""


def test_the_cli_leaves_the_gc_as_its_caller_had_it(tmp_path, cache_dir):
    """cli/startup pauses the GC while a command starts; a caller's process gets it back as it was, and
    nothing of the caller's is frozen (only a process the command owns freezes what its start made)."""
    hub = _one_model_hub(tmp_path)
    env = subprocess_env(None, cache_dir)
    for state in ("on", "off"):
        result = subprocess.run([sys.executable, "-c", GC_CODE, str(hub), state], env=env, capture_output=True,
                                text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout.splitlines()[-1])
        assert all(enabled == (state == "on") for _, enabled in report["seen"]), (state, report)
        assert report["frozen_more"] == 0, report
