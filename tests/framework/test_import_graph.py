"""The shape of ``core/``: no import cycles (function-local imports count), and core never
imports from ``apps/``.

Every ``import`` statement of every module under ``core/`` is read with ``ast`` (at
any depth: a cycle hidden in a function is still a cycle), resolved to the module it
names (``from core.admin import pagination`` → ``core.admin.pagination``; ``from
core.admin import ModelAdmin`` → the package ``core.admin``), and the strongly
connected components of that graph must all be single modules. A package's
``__init__`` re-exporting its own modules is not a cycle with them.
"""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "core"


def module_name(path):
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    return {module_name(path): path for path in CORE.rglob("*.py")}


def imported(name, path, tree, known):
    """The ``core`` modules ``tree`` (module ``name`` at ``path``) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:      # core.x.y.Name → core.x.y
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph():
    known = modules()
    graph = {}
    for name, path in known.items():
        edges = imported(name, path, ast.parse(path.read_text(), str(path)), known)
        if path.name == "__init__.py":                 # re-exports of its own modules
            edges = {e for e in edges if not e.startswith(name + ".")}
        else:                                          # a module using its package's API
            edges = {e for e in edges if not name.startswith(e + ".")}
        graph[name] = edges
    return graph


def cycles(graph):
    """Tarjan's strongly connected components with more than one module."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_core_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_checker_sees_a_cycle_hidden_in_a_function():
    graph = {"core.a": {"core.b"}, "core.b": {"core.c"}, "core.c": {"core.a"}, "core.d": set()}
    assert cycles(graph) == [["core.a", "core.b", "core.c"]]
    tree = ast.parse("def f():\n    from core.b import thing\n")
    assert imported("core.a", CORE / "a.py", tree, {"core.a", "core.b"}) == {"core.b"}


def test_core_never_imports_apps():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level \
                else []
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names
                          if n == "apps" or n.startswith("apps.")]
    assert offenders == []
