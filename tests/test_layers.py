"""The package's layers import one way: no import circles (imports inside functions count too), and the
core never imports a model family, the adapters or the UI.

Read from the source with `ast`, so a circle that only closes when a function runs is found as well.
"""

import ast
import re
from pathlib import Path

import genart_playground

PACKAGE = Path(genart_playground.__file__).parent
# What no family owns: the registry and loader, the shapes world, measures, recipes, checks, the diffusion runtime.
CORE = ("models", "data", "metrics", "refs", "settings", "recipes", "checks", "imaging", "latents",
        "limits", "serving", "uploads", "console", "devices", "diffusion")
ABOVE_CORE = ("families", "ui", "testing", "train")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that `path` imports, anywhere in it (a function body too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module in modules and module != name}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imports(path, set(paths)) for name, path in paths.items()}


def circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_import_circles_counting_imports_inside_functions():
    # The package itself is left out: it gathers the public API from the families by design, and every
    # `from .. import settings` names it.
    graph = {name: targets - {"genart_playground"} for name, targets in import_graph().items()}
    assert circles(graph) == []


def layer(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def test_the_core_imports_no_family_or_ui():
    wrong = {module: sorted(target for target in targets if layer(target) in ABOVE_CORE + ("ui",))
             for module, targets in import_graph().items() if layer(module) in CORE}
    assert {module: targets for module, targets in wrong.items() if targets} == {}


def family_of(module: str) -> str | None:
    """The family folder a module lives in (genart_playground.families.<id>....), else None."""
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "families" and parts[2] not in ("base",) else None


def test_a_family_folder_imports_no_other_family_folder():
    # Another family's functions are reached through the public API (`from ... import text_to_image`,
    # looked up live) or a capability the registry hands out, so a family folder can be added or removed alone.
    crossing = {(module, target) for module, targets in import_graph().items() for target in targets
                if family_of(module) and family_of(target) and family_of(module) != family_of(target)}
    assert crossing == set()


def test_production_code_never_imports_the_test_helpers():
    users = {module for module, targets in import_graph().items() if "genart_playground.testing" in targets}
    assert users == set()


# A task or a tab asks a model's kind for an ability (registry.can) and a family for a capability
# (Family.can); it never compares kind names or family ids. Inside a family's own declaration it may.
def branch_pattern(names) -> re.Pattern:
    """A comparison with one of `names` as a string, or a spec's kind tested against anything."""
    named = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"""(==|!=)\s*["']({named})["']|["']({named})["']\s*(==|!=)|\bspec\.kind\s*(==|!=|in\b|not in\b)""")


# Left, with its reason: the registry checks that a spec's kind exists.
KNOWN = {("models/registry.py", "if spec.kind not in _KINDS:")}


def names_of_others(folder: str | None) -> list[str]:
    """Every registered kind and family id, less those of the family whose folder this is."""
    from genart_playground.models import registry

    own = set()
    if folder in registry.family_ids():
        own = {folder, *(kind.name for kind in registry.family(folder).kinds)}
    return [name for name in [*registry.kinds(), *registry.family_ids()] if name not in own]


def test_no_branch_on_a_kind_or_family_id_outside_its_folder():
    found = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        folder = parts[1] if parts[0] == "families" and len(parts) > 2 else None
        pattern = branch_pattern(names_of_others(folder))
        for line in path.read_text().splitlines():
            if pattern.search(line) and not line.lstrip().startswith("#"):
                found.add((str(path.relative_to(PACKAGE)), line.strip()))
    assert found - KNOWN == set()


def test_the_branch_finder_finds_branches():
    pattern = branch_pattern(["token-transformer", "text_to_image"])
    for line in ['if spec.kind == "token-transformer":', "if spec.kind in STYLE_KINDS:", 'if task == "text_to_image":',
                 'if metadata.get("task") != "text_to_image":', "if 'text_to_image' == family:"]:
        assert pattern.search(line), line
    for line in ['if registry.can(spec, "denoise"):', 'if kind == "done":', 'registry.resolve("text_to_image", m)']:
        assert not pattern.search(line), line
