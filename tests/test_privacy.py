"""Privacy: everything wachat writes for a project is readable by its owner only."""
from __future__ import annotations

import os
import stat


def test_project_files_are_owner_only_after_import_train_export(exported_gguf, demo_project):
    assert exported_gguf.is_relative_to(demo_project)
    loose = []
    for root, dirs, files in os.walk(demo_project):
        for name in dirs:
            mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
            if mode & 0o077:
                loose.append((os.path.join(root, name), oct(mode)))
        for name in files:
            mode = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
            if mode & 0o077:
                loose.append((os.path.join(root, name), oct(mode)))
    assert not loose, f"readable by others: {loose[:10]}"
    assert stat.S_IMODE(os.stat(demo_project).st_mode) == 0o700
