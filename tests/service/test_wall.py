"""The walls between layers: the engine never imports Streamlit or the pages (it must run headless,
in workers and in the CLI), and inside it core knows no experiment and no service, experiments know
no service, and no module imports itself back through another."""
import ast
import subprocess
import sys

from tests.conftest import ROOT, cli_env

# layer -> the layers it must not import (prefixes of module names)
FORBIDDEN = {
    "models.base": ("models.core", "models.experiments", "models.service", "models.commands", "models.cli",
                    "lessons", "streamlit", "torch"),
    "models.kinds": ("models.experiments", "models.service", "models.commands", "models.cli", "lessons",
                     "streamlit", "torch"),
    "models.core": ("models.experiments", "models.service", "models.commands", "models.cli", "lessons", "streamlit"),
    "models.experiments": ("models.service", "models.commands", "models.cli", "lessons", "streamlit"),
    "models.service": ("models.commands", "models.cli", "lessons", "streamlit"),
    "models": ("lessons", "streamlit"),
}


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path) -> set[str]:
    """Every module a file imports, at its top or inside a function (a lazy import is still a dependency)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}  # `from models.core import data`
    return found


def engine_graph() -> dict[str, set[str]]:
    files = {module_name(path): path for path in (ROOT / "models").rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in files and m != name} for name, path in files.items()}


def layer_of(module: str) -> str:
    return next(layer for layer in FORBIDDEN if module == layer or module.startswith(layer + "."))


def test_each_layer_imports_only_the_layers_below_it():
    for path in (ROOT / "models").rglob("*.py"):
        name = module_name(path)
        for imported in imports_of(path):
            banned = [b for b in FORBIDDEN[layer_of(name)] if imported == b or imported.startswith(b + ".")]
            assert not banned, f"{name} imports {imported}: the {layer_of(name)} layer must not import {banned[0]}"


def test_the_engine_has_no_import_cycle():
    graph = engine_graph()
    graph.pop("models.nets")  # the compatibility name for old student cards: it only re-exports core
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for imported in sorted(graph.get(module, ())):
            if imported.startswith("models.") and imported.count(".") and imported in graph:
                assert state.get(imported) != "open", "import cycle: " + " -> ".join(path + [imported])
                if imported not in state:
                    visit(imported, path + [imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_bottom_layer_may_not_import_upward(tmp_path):
    """models.base (configs, results, errors, paths) is below everything: a file there importing the
    service, or torch, is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from models.service import store\nimport torch\n")
    banned = [m for m in imports_of(bad) for b in FORBIDDEN[layer_of("models.base.paths")] if m.startswith(b)]
    assert "models.service" in banned and "torch" in banned


def test_only_the_trainer_runs_a_backward_pass():
    """One training loop: every model of the engine trains through models/core/trainer.py, so no other
    engine file calls backward() or builds an optimiser."""
    offenders = []
    for path in (ROOT / "models").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("backward", "Adam", "SGD", "clip_grad_norm_"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert offenders and all(o.startswith("models/core/trainer.py:") for o in offenders), offenders


def test_the_wall_test_sees_a_forbidden_import(tmp_path):
    """The check itself works: a core file importing the service is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from models.service.store import RunStore\n")
    assert "models.service.store" in imports_of(bad)
    assert any(m.startswith(FORBIDDEN["models.core"][1]) for m in imports_of(bad))


def test_importing_the_whole_engine_loads_no_streamlit():
    code = ("import sys, pkgutil, importlib, models\n"
            "for m in pkgutil.walk_packages(models.__path__, 'models.'):\n"
            "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
            "print('streamlit' in sys.modules, 'lessons' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=cli_env())
    assert out.stdout.strip() == "False False", out.stderr
