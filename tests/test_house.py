"""The shape of the house: the library never imports Streamlit, modules import no cycles and no private names from
each other, every file stays readable (<= 300 lines), and the public surface of ``vae_core`` resolves."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import vae_core

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = sorted((ROOT / "vae_core").rglob("*.py"))
APP = [ROOT / "app.py", *sorted((ROOT / "ui").glob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]
SUBPACKAGES = sorted(p.parent.name for p in (ROOT / "vae_core").glob("*/__init__.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every import in a file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.append((module, [alias.name for alias in node.names], node.lineno))
    return found


@pytest.mark.parametrize("module", ["vae_core", *(f"vae_core.{p}" for p in SUBPACKAGES), "vae_core.cli.train"])
def test_the_library_never_imports_streamlit(module):
    code = f"import sys, {module}; assert 'streamlit' not in sys.modules, 'streamlit was imported'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_importing_the_package_alone_loads_no_torch():
    code = "import sys, vae_core; assert 'torch' not in sys.modules, 'importing vae_core loaded torch'"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_every_public_name_resolves():
    for name in vae_core.__all__:
        assert getattr(vae_core, name) is not None, name
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        vae_core.nope  # noqa: B018


def test_no_import_cycles_between_modules():
    """Module-level imports only (an import inside a function is how a late, deliberate dependency is written)."""
    files = {module_name(p): p for p in [*LIBRARY, *APP]}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        top_level = [
            n for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.Import | ast.ImportFrom)
        ]
        lines = {n.lineno for n in top_level}
        deps = set()
        for module, names, line in imports_of(path):
            if line not in lines:
                continue
            for target in [module, *(f"{module}.{n}" for n in names)]:
                if target in files and target != name:
                    deps.add(target)
        graph[name] = deps
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in graph[node]:
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)


def test_no_module_imports_a_private_name_from_another():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name} from {module}"
        for path in [*LIBRARY, *APP]
        for module, names, line in imports_of(path)
        for name in names
        if name.startswith("_") and not name.startswith("__") and module.split(".")[0] in ("vae_core", "ui")
    ]
    assert offenders == []


def test_no_module_imports_a_command_line_tool():
    """``cli/`` is the end of the line: library and app code never import it (nothing imports nanoGPT's train.py)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in [*LIBRARY, *APP]
        if "cli" not in path.parts
        for module, _, line in imports_of(path)
        if module.startswith("vae_core.cli")
    ]
    assert offenders == []


@pytest.mark.parametrize("path", [*LIBRARY, *APP], ids=lambda p: str(p.relative_to(ROOT)))
def test_files_stay_readable(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 300, f"{path.relative_to(ROOT)} has {lines} lines; split it by idea (STYLE.md)"


def test_the_folders_name_where_things_are():
    """A newcomer finds the file format, the training loop and the metrics from the folder names alone."""
    assert (ROOT / "vae_core/store/files.py").is_file()  # the checkpoint file format
    assert (ROOT / "vae_core/training.py").is_file()  # the training loop
    assert (ROOT / "vae_core/evaluation/results.py").is_file()  # the metrics beside each checkpoint
    assert set(SUBPACKAGES) >= {"store", "latent", "evaluation", "jobs", "cli"}
