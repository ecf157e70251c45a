"""The context → reply pairs of a project in a filterable table."""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from ...core.records import Pair
from ...display import safe


@dataclass
class PairRow:
    """A pair as the table shows it (``excluded`` changes as the user toggles it)."""

    id: str
    persona: str
    session: int
    split: str
    time: str
    context: list[tuple[str, str]]
    reply: str
    excluded: bool
    chat_id: str = ""

    @classmethod
    def from_pair(cls, p: Pair) -> "PairRow":
        return cls(p.id, p.persona, p.session, p.split, p.time.isoformat(timespec="seconds"),
                   [(u.author, u.text) for u in p.context], p.reply, p.excluded, p.chat_id)

    def matches(self, needle: str) -> bool:
        if not needle:
            return True
        needle = needle.lower()
        return needle in self.reply.lower() or any(needle in t.lower() for _, t in self.context)


def _one(text: str, width: int) -> str:
    flat = " ⏎ ".join(safe(part) for part in text.split("\n") if part.strip())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class PairTable(DataTable):
    """Rows keyed by pair id; the ✗ column marks pairs excluded from training."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_by_id: dict[str, PairRow] = {}

    def on_mount(self) -> None:
        self.add_column("", key="mark", width=1)
        self.add_column("sess", key="session", width=4)
        self.add_column("who", key="persona", width=8)
        self.add_column("context (last turn)", key="context", width=30)
        self.add_column("reply", key="reply", width=34)
        self.add_column("split", key="split", width=5)
        self.fit_columns()

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        """Share the width between context and reply so the table never scrolls sideways."""
        width = self.size.width or 100
        fixed = 1 + 4 + 8 + 5
        pad = 2 * self.cell_padding * 6
        avail = max(24, width - fixed - pad - 2)
        widths = {"context": avail * 45 // 100, "reply": avail - avail * 45 // 100}
        for key, column in self.columns.items():
            if key.value in widths:
                column.width = widths[key.value]
                column.auto_width = False
        self._require_update_dimensions = True
        self.refresh()

    def show(self, rows: list[PairRow]) -> None:
        keep = self.cursor_row
        current = self._current_id()
        self.clear()
        self.rows_by_id = {r.id: r for r in rows}
        for r in rows:
            last = r.context[-1][1] if r.context else ""
            self.add_row(*self._cells(r, last), key=r.id)
        if current and current in self.rows_by_id:
            self.move_cursor(row=self.get_row_index(current))
        elif rows:
            self.move_cursor(row=min(keep, len(rows) - 1))

    def _cells(self, r: PairRow, last: str):
        dim = "dim strike" if r.excluded else ""
        return (
            Text("✗", style="bold red") if r.excluded else Text(""),
            Text(f"{r.session}", style="dim"),
            Text(safe(r.persona[:8]), style=dim or "bold"),
            Text(_one(last, 200), style=dim or "dim", no_wrap=True, overflow="ellipsis"),
            Text(_one(r.reply, 200), style=dim, no_wrap=True, overflow="ellipsis"),
            Text("val" if r.split.startswith("val") else "train", style="dim"),
        )

    def _current_id(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return key.value

    @property
    def current(self) -> PairRow | None:
        pid = self._current_id()
        return self.rows_by_id.get(pid) if pid else None

    def mark(self, pair_id: str, excluded: bool) -> None:
        row = self.rows_by_id.get(pair_id)
        if row is None:
            return
        row.excluded = excluded
        last = row.context[-1][1] if row.context else ""
        for col, cell in zip(("mark", "session", "persona", "context", "reply", "split"),
                             self._cells(row, last)):
            self.update_cell(pair_id, col, cell)
