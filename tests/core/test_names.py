"""The one slug rule and the one participant matcher."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from wachat_tui.core.names import resolve_name, slugify
from wachat_tui.core.project import validate_name
from wachat_tui.errors import ProjectError


@pytest.mark.parametrize("title, slug", [
    ("Chat with José", "chat-with-jose"),        # the Import pane used to keep "é" and core refused it
    ("WhatsApp Chat with Leo", "leo"),
    ("WhatsApp Chat mit Jürgen Müller", "jurgen-muller"),
    ("Família 🎉 2024", "familia-2024"),
    ("שלום", "chat"),                             # no ASCII letters at all: the fallback
])
def test_slugs_are_valid_project_names(title, slug):
    assert slugify(title) == slug
    assert validate_name(slugify(title)) == slug


@given(st.text(max_size=80))
def test_any_title_gives_a_valid_project_name(title):
    validate_name(slugify(title))


def test_resolve_name_forgives_case_and_spaces():
    assert resolve_name(" maya ", ["Maya", "Leo"]) == "Maya"
    assert resolve_name("Leo", ["Maya", "Leo"]) == "Leo"


def test_resolve_name_refuses_unknown_and_ambiguous_names():
    with pytest.raises(ProjectError, match="not a participant"):
        resolve_name("Bob", ["Maya", "Leo"])
    with pytest.raises(ProjectError, match="several"):
        resolve_name("ana", ["Ana", "ANA"])
