"""Optional compiled build of the client's hottest modules.

``gitleague_client/xdlsplit.py`` (the port of git's Myers for costly edits)
and ``gitleague_client/xdlclean.py`` (xdiff's discarding of frequent lines)
are plain, fully typed Python. When mypyc (part of mypy) and a C compiler are
at hand, they are also compiled into extension modules that Python imports
in place of the source: their loops then run as C, several times as fast on
files rewritten by thousands of lines. Anything that keeps the build from
working (no compiler, no Python headers, ``GITLEAGUE_CLIENT_PURE=1``) leaves
the pure-Python modules, which give the same answers.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

COMPILED = ["gitleague_client/xdlsplit.py", "gitleague_client/xdlclean.py"]


class OptionalBuildExt(build_ext):
    """``build_ext`` whose failure falls back to the pure-Python module."""

    failed = False

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # a missing compiler surfaces as several error types
            self._give_up(exc)

    def build_extension(self, ext) -> None:
        if self.failed:
            return
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        # mypyc makes two extensions of each module (a shim importing a shared
        # library of compiled code): keep all or none, else an import fails.
        self.failed = True
        _skip(exc)
        for ext in self.extensions:
            built = self.get_ext_fullpath(ext.name)
            if os.path.exists(built):
                os.remove(built)


def _skip(exc: Exception) -> None:
    print(f"gitleague-client: not compiled ({exc}); using pure Python", file=sys.stderr)


def _ext_modules() -> list:
    if os.environ.get("GITLEAGUE_CLIENT_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as exc:
        _skip(exc)
        return []
    try:
        # One shared library per module, kept inside the package (not a
        # hash-named module at the top of site-packages).
        return mypycify(COMPILED, opt_level="3", separate=True)
    except (Exception, SystemExit) as exc:  # mypy reports type errors by exiting
        _skip(exc)
        return []


setup(ext_modules=_ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
