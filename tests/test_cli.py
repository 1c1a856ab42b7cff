import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, cli_env


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "models", *args], capture_output=True, text=True,
                          cwd=ROOT, env=cli_env(), timeout=300)


def assert_rejected(args: list[str], names: str) -> None:
    """Bad input: exit status 2, one stderr line that names the problem, no traceback, no output."""
    out = run_cli(*args)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 2 and len(lines) == 1 and names in lines[0], out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_students_lists_presets_with_parameter_counts():
    out = run_cli("students", "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["students"]["mlp-100"] == 89610


def test_distill_json_keys_and_values():
    out = run_cli("distill", "--student", "mlp-10", "--train-size", "300", "--epochs", "2",
                  "--seeds", "2", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # exactly one JSON object on stdout
    assert {"student", "student_params", "teacher_params", "teacher_accuracy", "distilled_accuracy",
            "scratch_accuracy", "gain", "seconds", "dataset", "distilled_accuracy_std",
            "scratch_accuracy_std"} <= set(result)
    assert result["dataset"] == {"name": "MNIST sample (bundled)", "train_size": 8000, "test_size": 10000}
    for key in ("teacher_accuracy", "distilled_accuracy", "scratch_accuracy"):
        assert 0 <= result[key] <= 1
    assert result["gain"] == pytest.approx(result["distilled_accuracy"] - result["scratch_accuracy"])
    assert result["seeds"] == [0, 1] and result["student_params"] == 8070
    assert "bundled sample" in out.stderr  # the CLI says which data it used


def test_evaluate_json_keys():
    out = run_cli("evaluate", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {"test_accuracy", "params", "epochs"} <= set(result)
    assert result["test_accuracy"] > 0.99 and result["params"] > 1_300_000


def test_teacher_json_keys(tmp_path):
    saved = tmp_path / "mine.pt"
    out = run_cli("teacher", "--epochs", "1", "--save", str(saved), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {"test_accuracy", "params", "epochs", "seconds"} <= set(result) and result["epochs"] == 1
    assert saved.is_file() and saved.with_suffix(".json").is_file()
    evaluated = json.loads(run_cli("evaluate", "--teacher", str(saved), "--json").stdout)
    assert evaluated["test_accuracy"] == pytest.approx(result["test_accuracy"])


@pytest.mark.parametrize("args, names", [
    (["distill", "--temperature", "0"], "temperature"),
    (["distill", "--temperature", "-2"], "temperature"),
    (["distill", "--temperature", "nan"], "temperature"),
    (["distill", "--alpha", "1.5"], "alpha"),
    (["distill", "--student", "resnet-50"], "unknown student"),
    (["distill", "--train-size", "100000"], "train size"),
    (["distill", "--epochs", "0"], "epochs"),
    (["distill", "--seeds", "0"], "seeds"),
    (["distill", "--alpha", "lots"], "alpha"),
    (["evaluate", "--teacher", "/nonexistent/teacher.pt"], "missing"),
    (["teacher", "--epochs", "0"], "epochs"),
])
def test_bad_input_is_one_line_and_exit_status_2(args, names):
    assert_rejected(args, names)
