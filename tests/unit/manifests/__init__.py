"""Unit tests of manifests/: the committed base and overlays, rendered with kustomize."""
