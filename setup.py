"""Build hook for the one C extension (the parser's hot loop); metadata lives in pyproject.toml.

The extension is optional: where no C compiler is available, the install still succeeds and
the parser runs its pure-Python loop (same records, slower).
"""
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "wachat_tui.core.parse._hotloop",
            sources=["wachat_tui/core/parse/_hotloop.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ],
)
