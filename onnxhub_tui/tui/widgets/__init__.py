"""Widgets shared by the screens: the cursor-list base and the lists, tables and panels built on it."""
