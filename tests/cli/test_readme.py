"""Every ```sh block of the README runs as written (the ```bash ones need a network, a terminal or pip).

They run in order, in one scratch folder, against the demo hub and a private cache, with no proxy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


from onnxhub_tui import demo

README = Path(__file__).resolve().parents[2] / "README.md"


# The CLI's sections; other sections' blocks (installing, running the tests) are not examples to replay.
SECTIONS = ("First command: the demo", "Command line", "JSON output", "Repo specs and mirrors",
            "Cache location and layout", "Offline use", "SSH tips", "Host your own hub", "Migrating from onnx.hub")


def sh_blocks() -> list[str]:
    blocks = []
    for section in re.split(r"^## ", README.read_text(), flags=re.M)[1:]:
        title = section.splitlines()[0].strip()
        if title in SECTIONS:
            blocks += re.findall(r"^```sh\n(.*?)^```", section, flags=re.S | re.M)
    return blocks


def test_the_readme_has_runnable_examples():
    blocks = sh_blocks()
    assert len(blocks) >= 5
    assert any("onnxhub-tui manifest build" in b for b in blocks)


def test_every_sh_example_in_the_readme_runs(tmp_path):
    folder = demo.ensure_demo_hub(tmp_path / "demo-hub")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    for key in ("ONNXHUB_OFFLINE", "XDG_CACHE_HOME", "ONNXHUB_GITHUB_RAW_URL", "ONNXHUB_GITHUB_LFS_URL", "HF_ENDPOINT"):
        env.pop(key, None)
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", ONNXHUB_DEMO_DIR=str(folder),
               ONNX_HOME=str(tmp_path / "onnx-home"), HOME=str(tmp_path / "home"), COLUMNS="80")
    work = tmp_path / "work"
    work.mkdir()
    for block in sh_blocks():
        result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block], cwd=work, env=env,
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, f"README block failed:\n{block}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        assert "Traceback" not in result.stderr, block
