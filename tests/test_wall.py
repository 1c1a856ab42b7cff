"""The engine never imports Streamlit: it must run headless, in workers and in the CLI."""
import ast
import subprocess
import sys

from tests.conftest import ROOT, cli_env


def test_no_engine_file_imports_streamlit():
    for path in (ROOT / "models").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), f"{path} imports streamlit"


def test_importing_the_whole_engine_loads_no_streamlit():
    code = ("import sys, pkgutil, importlib, models\n"
            "for m in pkgutil.iter_modules(models.__path__):\n"
            "    if m.name != '__main__': importlib.import_module('models.' + m.name)\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=cli_env())
    assert out.stdout.strip() == "False", out.stderr
