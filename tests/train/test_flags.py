"""One definition of the training options: `wachat train` and the training process take the same
flags, generated from TrainConfig (flag and help from each field, choices from its Literal type)."""
from __future__ import annotations

import argparse
import dataclasses

import pytest

from wachat_tui.train.config import TrainConfig
from wachat_tui.train.flags import config_overrides, field_docs, option_names


def _cli_parser() -> argparse.ArgumentParser:
    from wachat_tui.commands import train

    parser = argparse.ArgumentParser(prog="wachat train")
    train.add_arguments(parser)
    return parser


def _worker_parser() -> argparse.ArgumentParser:
    from wachat_tui.train.__main__ import build_parser

    return build_parser()


def _parse(parser, *args: str) -> dict:
    required = ["demo"] if parser.prog == "wachat train" else ["--project-dir", "P"]
    return config_overrides(parser.parse_args([*required, *args]))


ARGS = ("--qlora", "--lr", "1e-3", "--seq-len", "256", "--eval-samples", "4", "--dropout", "0.1",
        "--device", "cpu", "--batching", "padded", "--target-modules", "q_proj,v_proj", "--no-sample-every-eval",
        "--early-stopping", "3", "--samples", "1", "--rank", "8")
EXPECTED = {"mode": "qlora", "learning_rate": 1e-3, "max_seq_len": 256, "eval_max_samples": 4, "dropout": 0.1,
            "device": "cpu", "batching": "padded", "target_modules": ("q_proj", "v_proj"),
            "sample_every_eval": False, "early_stopping_patience": 3, "n_samples": 1, "rank": 8}


@pytest.mark.parametrize("make", [_cli_parser, _worker_parser], ids=["wachat train", "worker"])
def test_cli_and_worker_take_the_same_training_options(make):
    assert _parse(make(), *ARGS) == EXPECTED
    assert _parse(make()) == {}  # nothing given: the device defaults (or the stored run config) apply


@pytest.mark.parametrize("make", [_cli_parser, _worker_parser], ids=["wachat train", "worker"])
def test_drifted_spellings_are_aliases(make):
    assert _parse(make(), "--eval-max-samples", "4") == _parse(make(), "--eval-samples", "4") == {"eval_max_samples": 4}
    assert _parse(make(), "--learning-rate", "0.01") == {"learning_rate": 0.01}
    assert _parse(make(), "--max-seq-len", "64") == {"max_seq_len": 64}


def test_every_field_is_an_option_with_its_docstring_as_help():
    names = option_names()
    assert {f.name for f in dataclasses.fields(TrainConfig)} == set(names)
    # the flags the README documents
    assert {"--lr", "--seq-len", "--rank", "--max-steps", "--eval-steps", "--base", "--epochs"} <= set(names.values())
    help_text = " ".join(_cli_parser().format_help().split())
    for name, doc in field_docs().items():
        assert doc.split(".")[0] in help_text or name == "mode", name
    assert "4-bit NF4" in help_text  # --qlora's own part of the mode docstring


@pytest.mark.parametrize("make", [_cli_parser, _worker_parser], ids=["wachat train", "worker"])
@pytest.mark.parametrize("args", [("--batching", "magic"), ("--device", "tpu"), ("--lr-scheduler", "step"),
                                  ("--qlora", "--lora")])
def test_enumerations_accept_only_their_values(make, args, capsys):
    with pytest.raises(SystemExit) as err:
        _parse(make(), *args)
    assert err.value.code == 2
