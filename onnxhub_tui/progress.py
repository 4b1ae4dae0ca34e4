"""Moved to ``onnxhub_tui.cli.progress``; this name stays only until ``hub.py`` imports it from there."""

from .cli.progress import bar_callback, progress_bars, stderr_is_tty

__all__ = ["bar_callback", "progress_bars", "stderr_is_tty"]
