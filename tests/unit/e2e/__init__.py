"""Unit tests of the helpers that tests/e2e/ modules define and decide with (no cluster)."""
