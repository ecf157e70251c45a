"""Generator of the realistic chat fixtures (see tools/make_chat_fixtures.py)."""
