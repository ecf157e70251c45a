"""The training options on the command line, generated from :class:`~.config.TrainConfig`.

``wachat train`` and the training process (``python -m wachat_tui.train``) both call
:func:`add_config_arguments` and :func:`config_overrides`, so their options are one definition:
a field's flag comes from its metadata (else its name), its help from its docstring, its
choices from its ``Literal`` type. Every option defaults to "not given" (None), so only what
the user typed overrides the device defaults or a stored configuration.
"""
from __future__ import annotations

import argparse
import ast
import functools
import inspect
import textwrap
import types
import typing
from dataclasses import Field, fields

from .config import TrainConfig


@functools.cache
def field_docs() -> dict[str, str]:
    """Each TrainConfig field's docstring, on one line (the string literal right after the field)."""
    try:
        source = textwrap.dedent(inspect.getsource(TrainConfig))
    except OSError:  # shipped without sources (a zipped, compiled install): options keep no help text
        return {}
    body = ast.parse(source).body[0].body
    docs = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            docs[node.target.id] = " ".join(after.value.value.replace("``", "").split())
    return docs


def _core_type(annotation) -> tuple[object, bool]:
    """(the type without ``None``, whether None was allowed)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _flag_names(f: Field) -> tuple[str, tuple[str, ...]]:
    meta = f.metadata or {}
    return meta.get("flag") or "--" + f.name.replace("_", "-"), tuple(meta.get("aliases") or ())


def option_names() -> dict[str, str]:
    """Field name → the flag users type (``learning_rate`` → ``--lr``)."""
    names = {}
    for f in fields(TrainConfig):
        if (f.metadata or {}).get("switches"):
            names[f.name] = "/".join(f"--{v}" for v in typing.get_args(_core_type(_hints()[f.name])[0]))
        else:
            names[f.name] = _flag_names(f)[0]
    return names


@functools.cache
def _hints() -> dict[str, object]:
    return typing.get_type_hints(TrainConfig)


def _switch_help(doc: str, value: str) -> str | None:
    """The part of an enumeration's docstring about one value ("qlora: …; lora: …")."""
    for part in doc.split("; "):
        if part.startswith(f"{value}:"):
            return part[len(value) + 1:].strip().rstrip(".")
    return doc or None


def _help(text: str) -> str:
    return text.replace("%", "%%")


def add_config_arguments(parser: argparse.ArgumentParser, title: str = "training options") -> None:
    """Add one option per TrainConfig field to ``parser`` (destination = the field name)."""
    group = parser.add_argument_group(title)
    docs = field_docs()
    for f in fields(TrainConfig):
        kind, _ = _core_type(_hints()[f.name])
        meta = f.metadata or {}
        doc = _help(docs.get(f.name, ""))
        if typing.get_origin(kind) is typing.Literal and meta.get("switches"):
            switches = group.add_mutually_exclusive_group()
            for value in typing.get_args(kind):
                switches.add_argument(f"--{value}", dest=f.name, action="store_const", const=value,
                                      default=None, help=_switch_help(doc, value))
            continue
        name, aliases = _flag_names(f)
        common = {"dest": f.name, "default": None, "help": doc or None}
        if meta.get("metavar"):
            common["metavar"] = meta["metavar"]
        if typing.get_origin(kind) is typing.Literal:
            group.add_argument(name, *aliases, choices=list(typing.get_args(kind)), **common)
        elif kind is bool:
            group.add_argument(name, *aliases, action=argparse.BooleanOptionalAction, **common)
        elif typing.get_origin(kind) is tuple and meta.get("repeat"):
            group.add_argument(name, *aliases, action="append", type=str, **common)
        elif typing.get_origin(kind) is tuple:
            group.add_argument(name, *aliases, nargs="+", type=str, **common)
        elif kind in (int, float, str):
            common.setdefault("metavar", {int: "N", float: "NUM", str: "TEXT"}[kind])
            group.add_argument(name, *aliases, type=kind, **common)
        else:  # a new field type needs a rule here; failing loudly beats a silently missing option
            raise TypeError(f"no command-line rule for TrainConfig.{f.name}: {kind!r}")


def config_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The training options given on the command line: field name → value (absent ones left out)."""
    out: dict[str, object] = {}
    for f in fields(TrainConfig):
        value = getattr(args, f.name, None)
        if value is None:
            continue
        if f.name == "target_modules":
            # "q_proj,v_proj" and "q_proj v_proj" both work
            value = tuple(part for item in value for part in item.replace(",", " ").split())
        out[f.name] = tuple(value) if isinstance(value, list) else value
    return out
