"""``python -m onnxhub_tui.cli``: the same as the ``onnxhub-tui`` command."""

import sys

from . import main

sys.exit(main())
