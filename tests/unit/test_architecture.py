"""Import boundaries of the product code (issue 11), read from the sources with ``ast``.

Product code is ``pruvon_core`` and the built-in plugins ``plugins/pruvon_*``
(the simulator is the separate ``pruvon-testing`` distribution).  Every
import counts, at module level or inside a function (a lazy import is still a
dependency), except those under ``if TYPE_CHECKING:`` and a module's import of
its own parent packages (Python runs those first anyway).

Rules:

* no import cycle between modules;
* core never imports a plugin;
* a plugin uses another plugin only through its public API: the package itself
  (``pruvon_web``) or its ``public`` module (``pruvon_web.public``), which
  re-exports what others may use.  What is left is listed in ``ALLOWED`` with
  the reason; the list only shrinks.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = "pruvon_core"
PUBLIC_MODULE = "public"

# (importing module, imported private module): why it is still allowed
ALLOWED: dict[tuple[str, str], str] = {}


def product_modules() -> dict[str, Path]:
    """Dotted module name -> file, for pruvon_core and every built-in plugin."""
    modules: dict[str, Path] = {}
    for package in [ROOT / CORE, *sorted((ROOT / "plugins").glob("pruvon_*"))]:
        for path in package.rglob("*.py"):
            parts = list(path.relative_to(package.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping ``if TYPE_CHECKING:`` bodies."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest product module a dotted name refers to (None: not ours)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom,
             modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    resolved = (_resolve(name, modules) for name in names)
    return [t for t in resolved if t and t != module and not module.startswith(t + ".")]


def import_graph() -> dict[str, set[str]]:
    modules = product_modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        graph[module]  # every module is a node
        for node in _import_nodes(ast.parse(path.read_text(), str(path))):
            graph[module].update(_targets(module, path, node, modules))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def is_public(module: str) -> bool:
    """A plugin's package itself or its ``public`` module."""
    parts = module.split(".")
    return len(parts) == 1 or (len(parts) == 2 and parts[1] == PUBLIC_MODULE)


def private_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if top(module) != top(target) and top(target) != CORE and not is_public(target)
    }


def test_the_graph_sees_the_code() -> None:
    """Guards the walker itself: known edges are found, lazy ones included."""
    graph = import_graph()
    assert "pruvon_core.hookspecs" in graph["pruvon_apps"]
    assert "pruvon_web.public" in graph["pruvon_terminals.web"]
    assert "pruvon_core.plugins" in graph["pruvon_core.config"]  # a lazy import
    # TYPE_CHECKING-only imports are not dependencies
    assert "pruvon_core.config" not in graph["pruvon_core.context"]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_core_imports_no_plugin() -> None:
    graph = import_graph()
    offending = sorted(
        (module, target)
        for module, targets in graph.items()
        if top(module) == CORE
        for target in targets
        if top(target) != CORE
    )
    assert offending == []


def test_plugins_use_each_other_only_through_the_public_api() -> None:
    found = private_imports(import_graph())
    assert sorted(found - set(ALLOWED)) == []


def test_allowlist_only_shrinks() -> None:
    """An entry that is no longer needed must be removed with its reason."""
    found = private_imports(import_graph())
    assert sorted(set(ALLOWED) - found) == []


def test_public_modules_export_what_they_import() -> None:
    """Every name a ``public`` module re-exports is in its ``__all__``."""
    for module, path in product_modules().items():
        if not module.endswith("." + PUBLIC_MODULE):
            continue
        tree = ast.parse(path.read_text())
        imported = {
            alias.asname or alias.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module != "__future__"
            for alias in node.names
        }
        (exported,) = [
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__"
        ]
        assert sorted(exported) == sorted(imported), module


def test_private_import_rule_on_a_known_graph() -> None:
    graph = {
        "pruvon_apps.web": {"pruvon_web.ws", "pruvon_web.public", "pruvon_core.dokku"},
        "pruvon_web.api": {"pruvon_web.ws", "pruvon_auth"},
    }
    assert private_imports(graph) == {("pruvon_apps.web", "pruvon_web.ws")}
