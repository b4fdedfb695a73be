"""Unit tests of scripts/*.sh, run for real with fakes where they would touch the machine."""
