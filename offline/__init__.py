"""Offline mode: build every image and tool the suite needs from source."""
