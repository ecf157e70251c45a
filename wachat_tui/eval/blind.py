""""Which one is real?" — the blind test's rounds, its score, and the scores kept per run. No UI.

A round shows a held-out context and two replies of the persona: the real one and the
fine-tuned model's, in an order drawn per round. The player picks the one they think is
real; the model *fools* them when they pick its reply. Rounds come from the examples of the
run's fidelity report (``eval.json``: context, real reply, model reply), so the game needs no
model and starts at once.

Randomness is seeded per game: the same seed gives the same examples in the same order with
the same sides, so a game can be replayed (and tested). The order of each round is an
independent coin flip — not a balanced half/half, which a player who counts could exploit in
the last rounds.

Scores are kept in ``RunFiles.blind`` (``blind.json``): ``{"sessions": [{date, rounds, fooled,
seed, model}]}``, oldest first, written atomically; only finished games are saved.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Sequence

from ..core.atomic import write_json
from ..core.layout import DamagedFile, RunFiles, read_json_object
from ..errors import WachatError
from .report import Example

DEFAULT_ROUNDS = 10
MAX_ROUNDS = 100


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def playable(examples: Sequence[Example]) -> list[Example]:
    """Examples a player can be asked about: the model wrote something, and not the very
    same words as the real reply (a copy cannot be told apart — that is the copy rate's job)."""
    return [e for e in examples if e.fine_tuned.strip() and e.real.strip() and not _same(e.real, e.fine_tuned)]


@dataclass(frozen=True)
class BlindRound:
    """One round: the example and which side the real reply is shown on."""

    example: Example
    real_first: bool

    @property
    def replies(self) -> tuple[str, str]:
        """The two replies as shown: bubble 1, bubble 2."""
        e = self.example
        return (e.real, e.fine_tuned) if self.real_first else (e.fine_tuned, e.real)

    @property
    def real_choice(self) -> int:
        """The bubble (1 or 2) that holds the real reply."""
        return 1 if self.real_first else 2


def draw_rounds(examples: Sequence[Example], rounds: int = DEFAULT_ROUNDS, *, seed: int) -> list[BlindRound]:
    """Up to ``rounds`` rounds from the playable examples, each example at most once."""
    if not 1 <= rounds <= MAX_ROUNDS:
        raise WachatError(f"a game has 1 to {MAX_ROUNDS} rounds, not {rounds}")
    rng = random.Random(seed)
    pool = playable(examples)
    chosen = rng.sample(pool, min(rounds, len(pool)))
    return [BlindRound(e, rng.random() < 0.5) for e in chosen]


@dataclass
class BlindGame:
    """A game in progress: the rounds, and the player's picks so far."""

    rounds: list[BlindRound]
    seed: int
    picks: list[int] = field(default_factory=list)

    @property
    def index(self) -> int:
        """The round being played (== len(rounds) when the game is over)."""
        return len(self.picks)

    @property
    def current(self) -> BlindRound | None:
        return self.rounds[self.index] if self.index < len(self.rounds) else None

    @property
    def done(self) -> bool:
        return self.index >= len(self.rounds)

    def pick(self, choice: int) -> bool:
        """Pick bubble ``choice`` (1 or 2) as the real one; True when the model fooled the player."""
        round_ = self.current
        if round_ is None:
            raise WachatError("the game is over")
        if choice not in (1, 2):
            raise WachatError(f"pick bubble 1 or 2, not {choice}")
        self.picks.append(choice)
        return choice != round_.real_choice

    @property
    def fooled(self) -> int:
        return sum(p != r.real_choice for p, r in zip(self.picks, self.rounds))

    def session(self, model: str = "", when: datetime | None = None) -> "BlindSession":
        """The finished game's score, as it is kept."""
        if not self.done:
            raise WachatError("only a finished game has a score")
        stamp = (when or datetime.now()).astimezone().isoformat(timespec="seconds")
        return BlindSession(stamp, len(self.rounds), self.fooled, self.seed, model)


@dataclass(frozen=True)
class BlindSession:
    """One finished game: when, how many rounds, how often the model fooled the player."""

    date: str
    rounds: int
    fooled: int
    seed: int | None = None
    model: str = ""

    @property
    def fooled_rate(self) -> float:
        return self.fooled / self.rounds if self.rounds else 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict) -> "BlindSession":
        return cls(str(row["date"]), int(row["rounds"]), int(row["fooled"]),
                   None if row.get("seed") is None else int(row["seed"]), str(row.get("model") or ""))


def read_sessions(run: RunFiles) -> list[BlindSession]:
    """The games played on ``run``, oldest first ([] when none was finished yet)."""
    doc = read_json_object(run.blind, missing={})
    try:
        return [BlindSession.from_json(row) for row in doc.get("sessions") or []]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise DamagedFile(f"{run.blind} is damaged", "move it away to start a new score history") from None


def save_session(run: RunFiles, session: BlindSession) -> list[BlindSession]:
    """Add a finished game to the run's history (atomic; a damaged history is never overwritten)."""
    sessions = read_sessions(run) + [session]
    write_json(run.blind, {"sessions": [s.to_json() for s in sessions]})
    return sessions
