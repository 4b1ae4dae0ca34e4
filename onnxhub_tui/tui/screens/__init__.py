"""The app's screens: one per mode (models, downloads, cache) and the modals."""
