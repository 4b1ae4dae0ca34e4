"""The Textual front end. It holds no logic the CLI or the API would need: that lives in ``core``."""
