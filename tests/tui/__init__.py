"""The Textual front end: Pilot tests, snapshots, and the real program in tmux."""
