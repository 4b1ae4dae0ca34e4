"""What `from onnxhub_tui import hub` loads: no rich (no bars are drawn without a terminal)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_api_loads_no_rich():
    code = "import sys; from onnxhub_tui import hub; print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
