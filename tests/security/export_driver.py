"""``python -m tests.security.export_driver PROJECT_DIR QUANT``: the export pipeline in its own
process, exactly as the export worker runs it (events on stdout), with the two checks a random
tiny model can pass (a model that has never learnt to chat cannot pass "end of turn")."""
from __future__ import annotations

import sys
from pathlib import Path

from wachat_tui.events import Finished, emit
from wachat_tui.export.config import ExportConfig
from wachat_tui.export.pipeline import export_model


def main() -> int:
    project, quant = Path(sys.argv[1]), sys.argv[2]
    path, metrics = export_model(project, ExportConfig(quant=quant), emit=lambda e: emit(e, sys.stdout),
                                 checks=("tokens", "logits"))
    emit(Finished(path=str(path), metrics={}), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
