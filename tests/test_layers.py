"""The layers of the code, read from its imports (every import, also those inside functions).

- the core (``observatoire``) imports neither ``ingest``, ``dashboard`` nor ``sample_data``, except its
  command-line face ``observatoire.cli``, which is where the faces meet;
- ``ingest`` never imports ``dashboard``;
- no module imports itself back through others (an import loop), whether the imports sit at the top of
  a module or are hidden inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("observatoire", "ingest", "dashboard", "sample_data")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The project module an imported name lands in (``a.b.c`` may be a name inside module ``a.b``)."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """module → the project modules it imports, wherever the import statement is."""
    known = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = module.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                # ``from pkg import mod`` imports the module pkg.mod when it exists
                names = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            for name in names:
                target = _resolve(name, known)
                if target and target != module:
                    targets.add(target)
        graph[module] = targets
    return graph


def import_loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            # a package's __init__ importing its own modules is how packages are built, not a loop
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                group.append(item)
                if item == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _top(module: str) -> str:
    return module.split(".")[0]


def layer_breaches(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    breaches = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if _top(module) == "observatoire" and _top(target) in ("ingest", "dashboard", "sample_data"):
                if not (module == "observatoire.cli" or module.startswith("observatoire.cli.")):
                    breaches.append((module, target))
            if _top(module) == "ingest" and _top(target) == "dashboard":
                breaches.append((module, target))
    return breaches


def test_core_imports_no_face_outside_the_cli():
    assert layer_breaches(import_graph()) == []


def test_no_import_loop():
    assert import_loops(import_graph()) == []


def test_the_checks_see_what_they_must(tmp_path):
    """The graph follows imports hidden in functions and relative imports; the checks catch both kinds."""
    graph = import_graph()
    assert "observatoire.settings" in graph["observatoire.db"]
    looped = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_loops(looped) == [["a", "b", "c"]]
    assert layer_breaches(
        {
            "observatoire.rates": {"ingest.reading"},
            "observatoire.cli.main": {"ingest.ssmsi"},
            "ingest.ssmsi": {"dashboard.app"},
        }
    ) == [("ingest.ssmsi", "dashboard.app"), ("observatoire.rates", "ingest.reading")]
