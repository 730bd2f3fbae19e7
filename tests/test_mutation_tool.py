"""scripts/mutation.py: its mutants are well formed and its copy leaves the checkout alone."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool():
    spec = importlib.util.spec_from_file_location("mutation_tool", ROOT / "scripts" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_tool"] = module
    spec.loader.exec_module(module)
    yield module
    # mutation.py puts scripts/ on sys.path to import its sibling; undo both.
    del sys.modules["mutation_tool"], sys.modules["mutants"]
    sys.path.remove(str(ROOT / "scripts"))


def test_every_mutant_of_every_module_compiles_and_differs(tool):
    for module in tool.MODULES:
        source = (ROOT / module.path).read_text()
        mutants = tool.find_mutants(module, source)
        assert mutants, module.path
        assert len({m.ident for m in mutants}) == len(mutants), module.path
        for m in mutants:
            assert tool.apply(source, m) != source, (module.path, m.what)


def test_each_kind_of_change_is_made(tool):
    module = tool.Module("x.py", ())
    source = (
        'P = "^[a-f]{4}$"\n'
        "def f(a, b):\n"
        '    """Doc."""\n'
        "    if a < 3 and not b:\n"
        "        raise ValueError(a)\n"
        "    g(a)\n"
        "    return a + 1\n"
    )
    whats = [m.what for m in tool.find_mutants(module, source)]
    assert whats == [
        "regex ^[a-f]{4}$: drop ^",
        "regex ^[a-f]{4}$: drop $",
        "a < 3 and (not b) -> a < 3 or not b",
        "a < 3 -> a <= 3",
        "3 -> 4",
        "drop `not` in not b",
        "remove raise ValueError(a)",
        "remove g(a)",
        "return a + 1 -> return None",
        "a + 1 -> a - 1",
        "1 -> 2",
    ]


def test_spans_are_utf8_byte_offsets(tool):
    module = tool.Module("x.py", ())
    source = 'X = ("é", 1 < 2)\n'
    (flip,) = [m for m in tool.find_mutants(module, source) if m.what == "1 < 2 -> 1 <= 2"]
    assert tool.apply(source, flip) == 'X = ("é", 1 <= 2)\n'


def test_only_named_functions_are_mutated(tool):
    module = tool.Module("x.py", (), only=("keep",))
    source = "def keep():\n    return 1\n\ndef skip():\n    return 2\n"
    assert {m.scope for m in tool.find_mutants(module, source)} == {"keep"}


def test_the_copy_holds_the_tree_and_imports_from_itself(tool, tmp_path):
    tool.copy_tree(tmp_path)
    assert (tmp_path / "app" / "services" / "auth.py").read_text() == (
        ROOT / "app" / "services" / "auth.py"
    ).read_text()
    assert not (tmp_path / ".venv").exists()
    tool.check_imports(tmp_path)
