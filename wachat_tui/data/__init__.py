"""Bundled data: the demo chat export (made by tools/make_demo.py) and the showcase eval report."""
