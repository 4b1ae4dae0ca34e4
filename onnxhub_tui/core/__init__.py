"""The core under the TUI, the CLI and the API. It imports no Textual."""
