"""Guard the import structure of ``src/mlpkit``.

mlpkit is layered. Every module sits on one level of ``LAYERS`` and imports only modules on its own level or
below it, never in a circle: the foundations (validation, activations, datasets, ...) know nothing of the network,
the network knows nothing of the training loop, and the command line and the web app stand on top where nothing
imports them. Kept this way, a new feature costs one module plus its test: it imports what stands below it, and
nothing below has to learn that it exists.

The graph is read from the source with :mod:`ast`, not by importing the modules, so every import counts: at module
level, inside functions and inside ``if TYPE_CHECKING:`` blocks (a type-only import is still a dependency of the
design). The only upward imports allowed are the documented façades in ``FACADES``, each a function-level import
inside one method. The package root ``mlpkit`` is a façade too: it re-exports the public API from everything below
the settings layer, and only the command line and the web app (for ``__version__``) import it.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "mlpkit"
ROOT = "mlpkit"

# Bottom to top; a module's level is that of the longest entry that is the module or a package holding it.
LAYERS: tuple[tuple[str, ...], ...] = (
    # 0: foundations
    (
        "mlpkit._atomic", "mlpkit._blas", "mlpkit._bounded", "mlpkit.validation", "mlpkit.platform_info",
        "mlpkit.presets",
        "mlpkit.activations", "mlpkit.initializers", "mlpkit.averages", "mlpkit.datasets", "mlpkit.metrics",
    ),
    # 1: the maths that stands on them; reverse-mode automatic differentiation (NumPy only)
    ("mlpkit.regularizers", "mlpkit.losses", "mlpkit.history", "mlpkit.autodiff", "mlpkit.tasks"),
    # 2
    ("mlpkit.layers", "mlpkit.parameters"),
    # 3: layers and losses written as a forward pass alone stand on layers.py's contract
    ("mlpkit.optimizers", "mlpkit.schedules", "mlpkit.autodiff.custom"),
    # 4
    ("mlpkit.network",),
    # 5
    ("mlpkit.callbacks", "mlpkit.serialization", "mlpkit.gradcheck", "mlpkit.diagnose", "mlpkit.plotting",
     "mlpkit.autodiff.draw", "mlpkit.tracking"),
    # 6: the step plan and BLAS thread policy
    ("mlpkit.fast",),
    # 7
    ("mlpkit.training", "mlpkit.checkpoint"),
    # 8
    ("mlpkit.compat", "mlpkit.reproduce", "mlpkit.sklearn", "mlpkit.export"),
    # 9
    ("mlpkit.settings",),
    # 10
    ("mlpkit.tuning", "mlpkit.web"),
    # 11: the entry point, declared in pyproject.toml; nothing outside it imports it
    ("mlpkit.cli",),
)
LEVELS: dict[str, int] = {name: level for level, names in enumerate(LAYERS) for name in names}
SETTINGS_LEVEL = LEVELS["mlpkit.settings"]
CLI = "mlpkit.cli"
# The only packages that may import the package root, the façade over the public API.
ROOT_IMPORTERS = ("mlpkit.cli", "mlpkit.web")

# The only upward imports: (importer, imported) -> the method whose body imports it.
FACADES: dict[tuple[str, str], str] = {
    # Network.fit calls mlpkit.training.fit
    ("mlpkit.network", "mlpkit.training"): "Network.fit",
    # Network.save calls mlpkit.serialization.save_network
    ("mlpkit.network", "mlpkit.serialization"): "Network.save",
}


@dataclass(frozen=True)
class Import:
    """One import statement's edge between two modules of the package."""

    source: str
    target: str
    line: int
    function: str | None  # qualified name of the enclosing function ("Network.fit"); None outside functions

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


def module_names(package_dir: Path) -> dict[str, Path]:
    """The dotted name of every module under ``package_dir`` (a package named by its ``__init__.py``) -> its file."""
    names: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


class _ImportCollector(ast.NodeVisitor):
    """Collect the imports of one module that resolve to modules of the same package."""

    def __init__(self, module: str, is_package: bool, modules: Collection[str]) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.modules = modules
        self.scope: list[str] = []
        self.functions = 0
        self.imports: list[Import] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_scope(node, is_function=False)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_scope(node, is_function=True)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_scope(node, is_function=True)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(submodule if submodule in self.modules else base, node)

    def _visit_scope(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef, is_function: bool) -> None:
        self.scope.append(node.name)
        self.functions += is_function
        self.generic_visit(node)
        self.functions -= is_function
        self.scope.pop()

    def _add(self, name: str, node: ast.Import | ast.ImportFrom) -> None:
        while name and name not in self.modules:  # `import pkg.mod.attr` style names: the longest module prefix
            name = name.rpartition(".")[0]
        if name and name != self.module:
            function = ".".join(self.scope) if self.functions else None
            self.imports.append(Import(self.module, name, node.lineno, function))


def find_imports(package_dir: Path) -> list[Import]:
    """Every import between modules of the package in ``package_dir``, read from the source with :mod:`ast`."""
    modules = module_names(package_dir)
    imports: list[Import] = []
    for name, path in modules.items():
        collector = _ImportCollector(name, path.name == "__init__.py", modules)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        imports.extend(collector.imports)
    return imports


def import_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per back edge of a depth-first search: empty exactly when the graph has no cycle."""
    done: set[str] = set()
    path: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target)
        path.pop()
        done.add(node)

    for node in sorted(graph):
        if node not in done:
            visit(node)
    return cycles


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def level_of(module: str) -> int | None:
    """The level of the longest ``LAYERS`` entry that is ``module`` or a package holding it; None if none is."""
    name = module
    while name and name not in LEVELS:
        name = name.rpartition(".")[0]
    return LEVELS.get(name)


def is_facade(imp: Import) -> bool:
    """Whether ``imp`` is an allowed façade: listed in ``FACADES`` and imported inside the method named there."""
    return imp.function is not None and FACADES.get((imp.source, imp.target)) == imp.function


def listing(lines: Iterable[str]) -> str:
    return "".join(f"\n  {line}" for line in sorted(set(lines)))


@pytest.fixture(scope="module")
def imports() -> list[Import]:
    return find_imports(PACKAGE_DIR)


def test_every_module_is_placed_in_the_layer_table() -> None:
    modules = module_names(PACKAGE_DIR)
    unplaced = [name for name in modules if name != ROOT and level_of(name) is None]
    assert not unplaced, "modules missing from LAYERS (place each on a level on purpose):" + listing(unplaced)
    stale = [name for name in LEVELS if name not in modules]
    assert not stale, "LAYERS names modules that no longer exist:" + listing(stale)


def test_import_graph_has_no_cycle(imports: list[Import]) -> None:
    cycles = find_cycles(import_graph(imp for imp in imports if not is_facade(imp)))
    assert not cycles, "import cycles in src/mlpkit:" + listing(" -> ".join(cycle) for cycle in cycles)


def test_no_module_imports_a_higher_level(imports: list[Import]) -> None:
    upward = []
    for imp in imports:
        source, target = level_of(imp.source), level_of(imp.target)
        if source is not None and target is not None and source < target and not is_facade(imp):
            upward.append(f"{imp} (level {source} imports level {target}) at line {imp.line}")
    assert not upward, "upward imports (only the façades in FACADES may import a higher level):" + listing(upward)


def test_facade_edges_still_exist(imports: list[Import]) -> None:
    found = {(imp.source, imp.target) for imp in imports if is_facade(imp)}
    gone = [f"{' -> '.join(edge)} in {method}" for edge, method in FACADES.items() if edge not in found]
    assert not gone, "façades listed in FACADES that the code no longer has (drop them from the list):" + listing(gone)


def test_facade_edges_are_imports_inside_their_method(imports: list[Import]) -> None:
    misplaced = [
        f"{imp} at line {imp.line} in {imp.function or 'module scope'}, not in {FACADES[imp.source, imp.target]}"
        for imp in imports
        if (imp.source, imp.target) in FACADES and not is_facade(imp)
    ]
    assert not misplaced, "façade edges must be function-level imports inside their method:" + listing(misplaced)


def test_nothing_outside_the_cli_imports_it(imports: list[Import]) -> None:
    offending = [
        f"{imp} at line {imp.line}" for imp in imports if within(imp.target, CLI) and not within(imp.source, CLI)
    ]
    assert not offending, "mlpkit.cli is the entry point (see pyproject.toml), not a library:" + listing(offending)


def test_settings_imports_neither_web_tuning_nor_cli(imports: list[Import]) -> None:
    above = ("mlpkit.web", "mlpkit.tuning", "mlpkit.cli")
    offending = [
        f"{imp} at line {imp.line}"
        for imp in imports
        if within(imp.source, "mlpkit.settings") and any(within(imp.target, package) for package in above)
    ]
    assert not offending, "mlpkit.settings must not import the web app, tuning or the cli:" + listing(offending)


def test_package_root_is_only_a_facade(imports: list[Import]) -> None:
    offending = []
    for imp in imports:
        level = level_of(imp.target)
        if imp.source == ROOT and level is not None and level >= SETTINGS_LEVEL:
            offending.append(f"{imp} (the root imports level {level}; only levels below {SETTINGS_LEVEL} allowed)")
        if imp.target == ROOT and not any(within(imp.source, package) for package in ROOT_IMPORTERS):
            offending.append(f"{imp} at line {imp.line} (only {' and '.join(ROOT_IMPORTERS)} may import the root)")
    assert not offending, "the package root is a façade over the public API:" + listing(offending)


def test_only_imports_inside_the_listed_method_are_facades() -> None:
    assert is_facade(Import("mlpkit.network", "mlpkit.training", 1, "Network.fit"))
    assert not is_facade(Import("mlpkit.network", "mlpkit.training", 1, None))
    assert not is_facade(Import("mlpkit.network", "mlpkit.training", 1, "Network.save"))
    assert not is_facade(Import("mlpkit.optimizers", "mlpkit.network", 1, None))


def test_find_cycles_reports_each_cycle() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) == []
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_extraction_finds_relative_type_checking_and_function_level_imports(tmp_path: Path) -> None:
    sources = {
        "demo/__init__.py": "from . import sub\nfrom .core import VALUE\nVERSION = '1'\n",
        "demo/core.py": (
            "import os\nfrom typing import TYPE_CHECKING\n\nVALUE = 1\n\n"
            "if TYPE_CHECKING:\n    from .sub.leaf import Leaf\n"
        ),
        "demo/sub/__init__.py": "",
        "demo/sub/leaf.py": (
            "import demo.core\nfrom .. import VERSION\n\n\n"
            "class Leaf:\n    def grow(self) -> None:\n        from .twig import Twig\n"
        ),
        "demo/sub/twig.py": "from demo.sub import leaf\nfrom numpy import ndarray\n",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")

    found = {(imp.source, imp.target, imp.function) for imp in find_imports(tmp_path / "demo")}

    assert found == {
        ("demo", "demo.sub", None),  # `from . import sub`: a submodule
        ("demo", "demo.core", None),
        ("demo.core", "demo.sub.leaf", None),  # inside `if TYPE_CHECKING:`
        ("demo.sub.leaf", "demo.core", None),  # absolute `import demo.core`, and no edge to its parents
        ("demo.sub.leaf", "demo", None),  # `from .. import VERSION`: a name, so the package itself
        ("demo.sub.leaf", "demo.sub.twig", "Leaf.grow"),  # function-level
        ("demo.sub.twig", "demo.sub.leaf", None),
    }
