"""The app's job interface on a real local Dask cluster (separate worker processes)."""
import contextlib
import os
import shutil
import signal

import pytest

from models.base.configs import ConfigError, DistillConfig, HintonConfig
from models.service.store import RunStore
from tests.conftest import PATIENCE_S, ROOT, wait_for, wait_until

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import dask
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # a dead worker fails its run
        local = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            env={"PYTHONPATH": str(ROOT), "DISTILL_DATA": str(tmp_path_factory.mktemp("worker-data")),
                 "DISTILL_OFFLINE": "1", "DISTILL_DEVICE": "cpu"})
        yield local
        local.close()


@pytest.fixture
def pool(cluster):
    from models.service.lifecycle import make_pool
    jobs = make_pool(RunStore(), cluster=cluster.scheduler_address)
    yield jobs
    jobs.shutdown()


def test_a_distillation_runs_on_the_cluster_with_progress_and_weights(pool, tmp_path):
    store = pool.store
    teacher = tmp_path / "my-teacher.pt"  # not bundled with the code: the worker receives its bytes
    shutil.copy(ROOT / "models" / "assets" / "teacher.pt", teacher)
    run_id = pool.submit(DistillConfig(student="mlp-10", train_size=300, epochs=2, teacher=str(teacher)),
                         owner="visitor")
    run = wait_for(store, run_id)
    assert run.status == "done" and run.error == ""
    assert [p["epoch"] for p in run.progress.curves] == [1, 2]  # progress travelled as Dask events
    assert run.worker.startswith("tcp://127.0.0.1:") and run.device == "cpu"
    assert run.result.dataset["name"] == "MNIST sample (bundled)"  # the worker's own data, recorded
    from models.core.checkpoints import teacher_digest
    assert run.result.teacher_digest == teacher_digest(str(teacher))
    from models.core.checkpoints import load_student
    from models.core.training import evaluate
    from models.core.data import load_sample
    assert evaluate(load_student("mlp-10", store.weights(run_id)), load_sample()) == run.result.distilled_accuracy


def test_cancel_reaches_a_run_on_the_cluster(pool):
    store = pool.store
    run_id = pool.submit(DistillConfig(student="mlp-10", train_size=500, epochs=500), owner="visitor")
    wait_until(lambda: store.get(run_id).progress.epoch, PATIENCE_S, "training to start")
    assert not pool.cancel(run_id, owner="someone else")
    assert pool.cancel(run_id, owner="visitor")
    assert wait_for(store, run_id, PATIENCE_S).status == "cancelled"


def test_a_worker_killed_mid_run_fails_its_run_and_the_next_job_runs(pool, cluster):
    store = pool.store
    run_id = pool.submit(DistillConfig(student="mlp-10", train_size=500, epochs=500), owner="visitor")
    wait_until(lambda: store.get(run_id).progress.epoch, PATIENCE_S, "training to start")
    pids = pool.backend._client.run(os.getpid)  # worker address -> its process id
    os.kill(pids[store.get(run_id).worker], signal.SIGKILL)
    run = wait_for(store, run_id, PATIENCE_S)
    assert run.status == "failed" and "stopped unexpectedly" in run.error
    wait_until(lambda: len(pool.backend._client.nthreads()) == 2, PATIENCE_S, "the nanny to restart the worker")
    after = pool.submit(DistillConfig(student="mlp-10", train_size=200, epochs=1), owner="visitor")
    assert wait_for(store, after, PATIENCE_S).status == "done"


def test_a_gpu_job_needs_a_gpu_worker(pool):
    with pytest.raises(ConfigError, match="asks for a GPU worker and the cluster at .* has none"):
        pool.submit(HintonConfig(epochs=100, teacher="paper"))


def test_a_scheduler_that_is_not_there_is_one_plain_sentence():
    from models.service.lifecycle import make_pool
    pool = make_pool(RunStore(), cluster="tcp://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ConfigError, match=r"the Dask cluster at tcp://127.0.0.1:9 is unreachable .*unset "
                                          "DISTILL_CLUSTER"):
        pool.submit(DistillConfig(student="mlp-10", train_size=200, epochs=1))
    assert RunStore().list() == []  # nothing was stored
    pool.shutdown()


def test_runs_in_flight_end_interrupted_when_the_scheduler_goes_away(tmp_path):
    import dask

    from models.service.lifecycle import make_pool
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        local = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                         env={"PYTHONPATH": str(ROOT), "DISTILL_DATA": str(tmp_path),
                                              "DISTILL_OFFLINE": "1"})
    # The app's client tries to reconnect for distributed.comm.timeouts.connect (30 s by default)
    # before it gives up on a scheduler; the test need not wait that long.
    with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
        pool = make_pool(RunStore(), cluster=local.scheduler_address)
        run_id = pool.submit(DistillConfig(student="mlp-10", train_size=500, epochs=500))
        wait_until(lambda: pool.store.get(run_id).progress.epoch, PATIENCE_S, "training to start")
        local.sync(local.scheduler.close)  # the scheduler alone goes away; its workers are still training
        run = wait_for(pool.store, run_id, PATIENCE_S)
        assert run.status == "interrupted" and "went away" in run.error
        with pytest.raises(ConfigError, match="unreachable"):
            pool.submit(DistillConfig(student="mlp-10", train_size=200, epochs=1))
        pool.shutdown()
        with contextlib.suppress(TimeoutError):  # its scheduler is gone: closing the rest may time out
            local.close(timeout=5)


def test_the_cli_sweeps_on_the_cluster_and_refuses_a_bad_address(cluster, capsys):
    import json

    from tests.conftest import assert_rejected, cli
    status, out, err = cli(capsys, "sweep", "--students", "mlp-10", "--temperatures", "2,4", "--seeds", "1",
                           "--train-size", "200", "--epochs", "1", "--cluster", cluster.scheduler_address, "--json")
    rows = json.loads(out)["rows"]
    assert status == 0 and [r["temperature"] for r in rows] == [2.0, 4.0]
    assert json.loads(out)["dataset"]["name"] == "MNIST sample (bundled)"  # the workers' data
    runs = RunStore().list(kind="sweep_cell")
    assert len(runs) == 1 and runs[0].worker.startswith("tcp://")  # landed in this lab's store
    assert_rejected(capsys, ["hinton", "--epochs", "1", "--cluster", "nonsense"], "not an address like tcp://HOST:8786")


@pytest.mark.parametrize("address, says", [
    ("tcp://[[[:1:80", "not an address like tcp://HOST:8786"),
    ("tls://127.0.0.1:8786", "tls:// is not supported"),
    ("ucx://127.0.0.1:8786", "ucx:// is not supported"),
    ("tcp://127.0.0.1:99999", "port 99999 is not between 1 and 65535"),
    ("tcp://[12345::1]:8786", "is not an IPv6 address"),
])
def test_an_address_the_lab_cannot_use_is_one_line_and_exit_2(capsys, address, says):
    from tests.conftest import assert_rejected
    assert_rejected(capsys, ["sweep", "--cluster", address, "--seeds", "1", "--students", "mlp-10",
                             "--temperatures", "2", "--train-size", "200", "--epochs", "1"], says)


@pytest.fixture(params=["an HTTP server", "a port that accepts and never answers"])
def not_a_scheduler(request):
    """Something listening where a scheduler was expected."""
    import http.server
    import socket
    import threading
    if request.param == "an HTTP server":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
    else:
        listener = socket.create_server(("127.0.0.1", 0))
        accepted = []
        threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
        yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
        listener.close()


def test_a_port_that_is_not_a_scheduler_is_refused_within_seconds(capsys, monkeypatch, not_a_scheduler):
    """Dask's timeout covers the connection, not its handshake: without the lab's bound this hung for good."""
    from models.service import cluster as backend
    from tests.conftest import assert_rejected
    monkeypatch.setattr(backend, "HANDSHAKE_S", 2)
    assert_rejected(capsys, ["sweep", "--cluster", not_a_scheduler, "--seeds", "1", "--students", "mlp-10",
                             "--temperatures", "2", "--train-size", "200", "--epochs", "1"],
                    "something answers there but not as a Dask scheduler within 2 s")


def test_the_readme_recipe_works_as_written(tmp_path, capsys):
    """`dask scheduler` started anywhere with none of the lab's code, workers from the lab's folder
    with PYTHONPATH=. (docs/architecture.md, Scale out), each a separate process: a sweep runs to its end."""
    import subprocess
    import sys
    from tests.servers import free_port
    port = free_port()
    bare = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", str(port), "--dashboard-address", ":0"],
        cwd=tmp_path, env={**bare, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"},
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "scheduler.log", "w"))
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}", "--nworkers", "1",
         "--nthreads", "1"], cwd=ROOT, env={**bare, "PYTHONPATH": ".", "DISTILL_OFFLINE": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = wait_until(lambda: _client_with_a_worker(f"tcp://127.0.0.1:{port}"), PATIENCE_S, "the cluster up")
        client.close()
        from tests.conftest import cli
        status, out, err = cli(capsys, "sweep", "--cluster", f"tcp://127.0.0.1:{port}", "--seeds", "1",
                               "--students", "mlp-10", "--temperatures", "2", "--train-size", "200", "--epochs", "1")
        assert status == 0 and "mlp-10" in out, err
        assert "ModuleNotFoundError" not in (tmp_path / "scheduler.log").read_text()
    finally:
        for process in (worker, scheduler):
            process.terminate()
            process.wait(timeout=30)


def _client_with_a_worker(address: str):
    try:
        client = distributed.Client(address, timeout=2, set_as_default=False)
    except (OSError, TimeoutError):
        return None
    if client.scheduler_info()["workers"]:
        return client
    client.close()
    return None


def test_a_mistyped_cluster_address_is_refused_before_dask_or_torch_load():
    """The address is checked first: a typo costs no seconds of imports."""
    import subprocess
    import sys

    from tests.conftest import ROOT, cli_env
    code = ("import sys\nfrom models.cli import main\nstatus = main(['sweep', '--cluster', 'tls://h:8786'])\n"
            "print(status, 'torch' in sys.modules, 'distributed' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=cli_env())
    assert out.stdout.split() == ["2", "False", "False"], out.stderr
    assert out.stderr.strip() == ("error: --cluster tls://h:8786: tls:// is not supported: the lab speaks plain "
                                  "tcp:// to Dask (tls:// needs certificates it does not configure, ucx:// needs UCX)")
