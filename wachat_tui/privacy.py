"""Nothing leaves the machine: the documented off-switches of every dependency's usage pings.

wachat itself makes no network call. Some libraries it drives would: TRL's trainers send a
usage ping to the Hugging Face hub when they are created (``huggingface_hub.send_telemetry``,
off under ``HF_HUB_DISABLE_TELEMETRY``), and ``DO_NOT_TRACK`` is the shared convention others
honour. The CLI, the app and the worker processes set these at start-up, before those
libraries are imported (huggingface_hub reads them once, at import); a value the user set
explicitly is left alone. The network is used only when the user names a hub model
(``--base org/model``), to download it.
"""
from __future__ import annotations

import os
from typing import MutableMapping

TELEMETRY_OFF: dict[str, str] = {
    "HF_HUB_DISABLE_TELEMETRY": "1",   # huggingface_hub: library usage pings (TRL sends one per trainer)
    "DISABLE_TELEMETRY": "1",          # huggingface_hub's older name for the same switch
    "DO_NOT_TRACK": "1",               # https://donottrack.sh: huggingface_hub and others honour it
    "GRADIO_ANALYTICS_ENABLED": "False",  # gradio-based tools, should one ever be imported
    "WANDB_MODE": "disabled",          # transformers' W&B integration, if wandb is installed
}


def disable_telemetry(env: MutableMapping[str, str] | None = None) -> None:
    """Turn every known usage ping off in ``env`` (default: this process's environment, which
    the worker processes inherit), keeping values the user set."""
    target = os.environ if env is None else env
    for name, value in TELEMETRY_OFF.items():
        target.setdefault(name, value)
