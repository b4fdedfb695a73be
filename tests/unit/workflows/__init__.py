"""Unit tests of .github/workflows/."""
