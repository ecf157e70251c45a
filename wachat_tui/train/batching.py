"""How pre-tokenized chat samples become batches: the collator and the length-grouped sampler.

Batches waste no compute on padding: length-grouped batches on the CPU (attention stays per
sample), padding-free concatenation with restarting position ids on CUDA with flash attention.
"""
from __future__ import annotations

import importlib.util
import random
from typing import Sequence

import torch
from torch.utils.data import Sampler

from .config import TrainConfig


class ChatCollator:
    """Pads (right) or concatenates pre-tokenized samples; labels are -100 outside the persona's replies."""

    def __init__(self, pad_id: int, padding_free: bool = False, pad_to_multiple_of: int | None = None):
        self.pad_id = pad_id
        self.padding_free = padding_free
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, features: list[dict]) -> dict:
        ids = [list(f["input_ids"]) for f in features]
        labels = [list(f["labels"]) for f in features]
        if self.padding_free:
            return self._concatenated(ids, labels)
        width = max(len(a) for a in ids)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            width = (width + m - 1) // m * m
        input_ids = torch.full((len(ids), width), self.pad_id, dtype=torch.long)
        lab = torch.full((len(ids), width), -100, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, (a, b) in enumerate(zip(ids, labels)):
            input_ids[i, : len(a)] = torch.tensor(a)
            lab[i, : len(b)] = torch.tensor(b)
            mask[i, : len(a)] = 1
        return {"input_ids": input_ids, "labels": lab, "attention_mask": mask}

    @staticmethod
    def _concatenated(ids: list[list[int]], labels: list[list[int]]) -> dict:
        flat_ids, flat_labels, pos, starts = [], [], [], [0]
        for a, b in zip(ids, labels):
            flat_ids += a
            flat_labels += [-100] + b[1:]  # never predict a sample's first token from the previous one
            pos += list(range(len(a)))
            starts.append(starts[-1] + len(a))
        cu = torch.tensor(starts, dtype=torch.int32)
        longest = int(cu.diff().max())
        return {
            "input_ids": torch.tensor([flat_ids]),
            "labels": torch.tensor([flat_labels]),
            "position_ids": torch.tensor([pos]),
            "cu_seq_lens_q": cu, "cu_seq_lens_k": cu,
            "max_length_q": longest, "max_length_k": longest,
        }


class GroupedSampler(Sampler):
    """Random batches of similar length: shuffle, sort inside mega-batches, shuffle the batches.

    Seeded per epoch (``set_epoch``), so a resumed run replays the same order."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, mega_mult: int = 16):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.mega = max(batch_size, batch_size * mega_mult)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        rng = random.Random(self.seed * 1000003 + self.epoch)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        batches = []
        for i in range(0, len(order), self.mega):
            mega = sorted(order[i: i + self.mega], key=lambda j: self.lengths[j], reverse=True)
            batches += [mega[k: k + self.batch_size] for k in range(0, len(mega), self.batch_size)]
        full = [b for b in batches if len(b) == self.batch_size]
        partial = [b for b in batches if len(b) != self.batch_size]
        rng.shuffle(full)
        for b in full + partial:  # a short batch only at the very end keeps the batch boundaries aligned
            yield from b


def resolve_batching(cfg: TrainConfig) -> str:
    """``auto``: padding-free only where varlen attention kernels exist (flash-attn on CUDA);
    elsewhere length-grouped batches, whose attention stays per sample."""
    if cfg.batching != "auto":
        return cfg.batching
    if cfg.device == "cuda" and importlib.util.find_spec("flash_attn") is not None:
        return "padding_free"
    return "grouped"
