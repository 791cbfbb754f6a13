"""No package of Sealflow imports itself round in a circle.

A cycle between modules works only as long as every name is looked up late enough; a function-level import
hides it from the first import and breaks on the next refactor. This walks the import statements of every
package under libs/, services/ and tools/ — at module level and inside functions alike, except under
`if TYPE_CHECKING:` — and fails naming each cycle it finds. Each package's modules are also imported one by
one in a fresh interpreter, the package forgotten between them, so a module that imports only when another was
imported first is caught too. And intake's service layer must not reach back into its HTTP entrypoints."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOTS = sorted(p for p in ROOT.glob("*/*/src") if p.parts[-3] in ("libs", "services", "tools"))
GENERATED = ("_pb2.py", "_pb2_grpc.py")  # grpc_tools' output imports only its siblings by absolute name


def _modules() -> dict[str, Path]:
    """Module name → file, for every first-party module."""
    found: dict[str, Path] = {}
    for src in PACKAGE_ROOTS:
        for path in src.rglob("*.py"):
            relative = path.relative_to(src)
            if ".egg-info" in str(relative) or path.name.endswith(GENERATED):
                continue
            parts = list(relative.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The first-party modules `name` imports, wherever in the file the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from pkg import mod` imports the submodule when there is one, else a name of pkg itself.
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return {t for t in targets if t in modules and t != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def _path(graph: dict[str, set[str]], component: list[str]) -> str:
    """The shortest loop from the component's first module back to it, for the failure message: a → b → a."""
    members, start = set(component), component[0]
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & members):
                if target == start:
                    loop = [start]
                    while node != start:
                        loop.append(node)
                        node = came_from[node]
                    return " → ".join([start, *reversed(loop[1:]), start])
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    return " → ".join(component)


def test_the_walk_sees_every_package_and_its_imports():
    modules = _modules()
    for package in ("sealflow_intake", "sealflow_routing", "sealflow_signing", "sealflow_notify", "sealflow_sla_monitor"):
        assert f"{package}.entrypoints.app" in modules
    assert "sealflow_runtime.service" in modules and "sealflow_contracts.messages" in modules
    # It must be able to see a function-level import (the way a cycle is usually hidden).
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert _cycles(graph) == [["a", "b"]]
    app = _imports("sealflow_intake.entrypoints.app", modules["sealflow_intake.entrypoints.app"], modules)
    assert "sealflow_intake.errors" in app


def test_no_import_cycles():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(_path(graph, c) for c in cycles)


def test_intakes_service_layer_knows_nothing_of_http():
    """intake's operations (service/) are called by the routes, never the other way round, and take no
    FastAPI request: they import neither entrypoints/ nor the web framework."""
    modules = _modules()
    service = {n: p for n, p in modules.items() if n.startswith("sealflow_intake.service")}
    assert "sealflow_intake.service.turns" in service
    for name, path in service.items():
        assert not {t for t in _imports(name, path, modules) if t.startswith("sealflow_intake.entrypoints")}, name
        imported = {
            alias.name if isinstance(node, ast.Import) else node.module or ""
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not {i for i in imported if i.split(".")[0] in ("fastapi", "starlette")}, name


@pytest.mark.parametrize("package", sorted({name.split(".")[0] for name in _modules()}))
def test_every_module_imports_on_its_own(package):
    """Each module of the package imported first, with none of the package's other modules loaded before it
    (one fresh interpreter; the package's modules are forgotten between imports, libraries stay loaded): an
    import that works only after some other module was imported — a cycle broken by import order — fails."""
    names = sorted(n for n in _modules() if n == package or n.startswith(f"{package}."))
    script = (
        "import importlib, sys, traceback\n"
        "from prometheus_client import registry\n"
        "register = registry.CollectorRegistry.register\n"
        "def register_again(self, collector):\n"
        "    try:\n"
        "        register(self, collector)\n"
        "    except ValueError:\n"
        "        pass  # a module's metric, defined again because the module is imported anew\n"
        "registry.CollectorRegistry.register = register_again\n"
        "package, names, failed = sys.argv[1], sys.argv[2:], []\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m == package or m.startswith(package + '.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        failed.append(name + ': ' + traceback.format_exc().strip().splitlines()[-1])\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", script, package, *names], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"modules that do not import on their own:\n{run.stdout}{run.stderr}"
