"""The CLI stays thin: a subcommand loads neither Textual nor (without bars) rich."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import subprocess_env

CODE = """
import sys
from onnxhub_tui.cli import main
code = main(sys.argv[1:])
loaded = sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'})
print(code, ','.join(loaded))
"""


def test_list_and_cache_commands_load_no_textual_and_no_rich(tmp_path, cache_dir):
    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "ONNX_HUB_MANIFEST.json").write_text(json.dumps([{
        "model": "m", "model_path": "m/m.onnx", "onnx_version": "1.14", "opset_version": 13,
        "metadata": {"model_sha": "0" * 64, "model_bytes": 1, "tags": []}}]))
    env = subprocess_env(None, cache_dir)
    for argv in (["list", "--repo", str(hub), "--json"], ["info", "m", "--repo", str(hub)], ["cache", "ls"]):
        result = subprocess.run([sys.executable, "-c", CODE, *argv], env=env, capture_output=True, text=True,
                                timeout=60, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "0 ", (argv, result.stdout[-200:])
