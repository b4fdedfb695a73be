"""Unit tests of common/, one file a module."""
