"""The shape of the packages: no import cycle, no module over 400 lines, a short `server/` top.

The import graph is read from the source (an AST walk), so it holds every import, those
inside functions included; only imports under `if TYPE_CHECKING:` are left out, since
they never run. An import of a module inside one of our packages is an edge to it:
`from server.bookings import store` is an edge to `server.bookings.store` when that is a
module, else to `server.bookings` (the name comes from its `__init__`). Importing
`server.bookings.store` runs `server/bookings/__init__.py` first, so it is an edge to that
package too, unless the importer is inside it (Python has begun loading it already).

Run as a script to print the cycles and the long modules:

    .venv/bin/python tests/test_structure.py
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocol", "devices", "gateway", "server", "spacehub")
MAX_LINES = 400
MAX_SERVER_TOP = 12  # modules at server/'s top, `__init__.py` included


def _skipped(path: Path) -> bool:
    """Alembic's migrations are scripts Alembic loads by path, not modules of ours."""
    return "migrations" in path.relative_to(ROOT).parts


def module_files() -> dict[str, Path]:
    """Every module of our packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if _skipped(path):
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, at any depth."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        if isinstance(node, ast.If) and _type_checking(node.test):
            stack.extend(node.orelse)  # the body never runs
            continue
        stack.extend(ast.iter_child_nodes(node))


def _base(module: str, package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` reads from."""
    if not node.level:
        return node.module or ""
    here = module if package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        here = here.rpartition(".")[0]
    return f"{here}.{node.module}" if node.module else here


def _known(name: str, modules: Collection[str]) -> str | None:
    """`name`, or the longest dotted prefix of it that is one of our modules."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(
    module: str, source: str, modules: Collection[str], *, package: bool = False
) -> set[str]:
    """The modules among `modules` that `module` (a package's `__init__` when `package`)
    imports, by its source."""
    targets: set[str] = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = _base(module, package, node)
            names = [f"{base}.{alias.name}" for alias in node.names]
            names = [n if n in modules else base for n in names]
        targets.update(t for n in names if (t := _known(n, modules)) is not None)
    # importing a.b.c runs a/b/__init__.py first: an edge to each package on the way,
    # but those the importer is inside of, which have begun importing already
    mine = set(_ancestors(module))
    for target in list(targets):
        targets.update(p for p in _ancestors(target) if p not in mine and p in modules)
    return targets - {module}


@cache  # read-only: several tests walk it
def import_graph() -> dict[str, set[str]]:
    """Module -> the modules of our packages it imports."""
    modules = module_files()
    return {
        module: imports_of(
            module, path.read_text(encoding="utf-8"), modules, package=path.name == "__init__.py"
        )
        for module, path in modules.items()
    }


def _ancestors(module: str) -> list[str]:
    """`a.b.c` -> [`a`, `a.b`]."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        # iterative, so a long chain of imports cannot hit the recursion limit
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def cycle_path(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One closed path through a component, to show in a failure: a -> b -> ... -> a."""
    members = set(component)
    start = component[0]
    # breadth-first from the start's successors back to the start, inside the component
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return component


def long_modules() -> dict[str, int]:
    """Modules over MAX_LINES lines, with their length."""
    lengths = {
        module: len(path.read_text(encoding="utf-8").splitlines())
        for module, path in module_files().items()
    }
    return {module: n for module, n in sorted(lengths.items()) if n > MAX_LINES}


def server_top() -> list[str]:
    return sorted(p.name for p in (ROOT / "server").glob("*.py"))


# -- the tests -------------------------------------------------------------------------------


def test_no_import_cycle() -> None:
    graph = import_graph()
    found = [" -> ".join(cycle_path(graph, c)) for c in cycles(graph)]
    assert found == [], "import cycles:\n" + "\n".join(found)


def test_no_module_over_400_lines() -> None:
    assert long_modules() == {}


def test_server_top_is_short() -> None:
    top = server_top()
    assert len(top) <= MAX_SERVER_TOP, top


# The layers of docs/architecture.md ("The server's inside"): edges -> domains -> store -> protocol.
EDGES = (
    "server.adapters",
    "server.api",
    "server.dashboard",
    "server.app",
    "server.context",
    "server.deps",
)
DOMAINS = tuple(
    f"server.{name}"
    for name in (
        "access",
        "bookings",
        "live",
        "monitoring",
        "noshows",
        "notify",
        "occupancy",
        "people",
        "reports",
        "waitlist",
    )
)
STORE = ("server.db",)


def _inside(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_dependencies_run_one_way() -> None:
    """Domains import no edge; the store imports no domain; `protocol` imports nothing of
    ours; a Pi's programs and the gateway import nothing of the server."""
    wrong = []
    for module, targets in import_graph().items():
        if _inside(module, DOMAINS + STORE):
            wrong += [(module, t) for t in targets if _inside(t, EDGES)]
        if _inside(module, STORE):
            wrong += [(module, t) for t in targets if _inside(t, DOMAINS)]
        if _inside(module, ("protocol",)):
            wrong += [(module, t) for t in targets if not _inside(t, ("protocol",))]
        if _inside(module, ("devices", "gateway")):
            wrong += [(module, t) for t in targets if _inside(t, ("server", "spacehub"))]
    assert wrong == []


MODULES = ("p", "p.a", "p.b", "p.c", "q", "q.d")


def test_an_import_inside_a_function_counts() -> None:
    source = "def f():\n    from p import b\n    import p.c\n"
    assert imports_of("p.a", source, MODULES) == {"p.b", "p.c"}


def test_an_import_for_type_checking_only_does_not_count() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from p.b import X\nelse:\n    from p.c import Y\n"
    )
    assert imports_of("p.a", source, MODULES) == {"p.c"}


def test_importing_a_module_imports_its_packages() -> None:
    """`q/__init__.py` runs before `q.d`; `p`'s own, which `p.a` is inside of, has begun."""
    assert imports_of("p.a", "from q.d import X\n", MODULES) == {"q", "q.d"}
    assert imports_of("p.a", "from . import b\nfrom .c import Y\n", MODULES) == {"p.b", "p.c"}
    assert imports_of("p", "from .a import Z\n", MODULES, package=True) == {"p.a"}


def test_the_graph_sees_imports_inside_functions() -> None:
    """In the real graph too: server.app imports its adapters inside create_app."""
    graph = import_graph()
    assert any(target.startswith("server.adapters") for target in graph["server.app"])


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycle_path(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


if __name__ == "__main__":
    graph = import_graph()
    for component in cycles(graph):
        print("cycle:", " -> ".join(cycle_path(graph, component)), f"({len(component)} modules)")
    for module, n in long_modules().items():
        print(f"long: {module} {n} lines")
    print(f"server/ top: {len(server_top())} modules")
