"""Unit tests of offline/, one file a module."""
