"""Bundled data: the demo chat export and its generator (make_demo.py)."""
