"""chainrule.distributed, DistributedDataParallel and DistributedSampler.

The multi-process checks run tests/mpi_scenarios.py under ``mpiexec -n 2`` (the
``distributed`` extra: mpi4py and the MPICH wheel); they skip, saying why, only where
MPI cannot start. The single-process checks run everywhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.distributed as dist
from chainrule.data.distributed import DistributedSampler
from chainrule.distributed.process_group import mpiexec_path
from chainrule.nn.parallel import DistributedDataParallel, consume_prefix_in_state_dict_if_present

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "mpi_scenarios.py"


def mpi_env(**extra: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    for var in ("PMI_SIZE", "PMI_RANK", "PMI_FD", "OMPI_COMM_WORLD_SIZE", "RANK",
                "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(var, None)  # never inherit a surrounding job's identity
    env.update(extra)
    return env


def run_mpi(args: list, n: int = 2, timeout: float = 120, **env: str):
    command = [mpiexec_path(), "-n", str(n), sys.executable] + [str(a) for a in args]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout,
                          env=mpi_env(**env), cwd=ROOT)


@pytest.fixture(scope="module")
def mpi():
    """Skip, with the reason, where two MPI processes cannot be started here."""
    if not dist.is_mpi_available():
        pytest.skip("mpi4py is not installed (pip install 'chainrule[distributed]')")
    if mpiexec_path() is None:
        pytest.skip("no mpiexec on PATH or beside this Python (pip install mpich)")
    probe = [mpiexec_path(), "-n", "2", sys.executable, "-c",
             ("from mpi4py import MPI; c = MPI.COMM_WORLD; total = c.allreduce(1); "
              "c.Get_rank() == 0 and print('ranks', total)")]
    for _attempt in range(2):  # a first start can be slow or fail once on a busy machine
        try:
            result = subprocess.run(probe, check=False, capture_output=True, text=True, timeout=60,
                                    env=mpi_env())
        except subprocess.TimeoutExpired:
            reason = "mpiexec -n 2 did not start within 60 s"
            continue
        if result.returncode == 0 and result.stdout.split() == ["ranks", "2"]:
            return
        reason = (f"MPI cannot start two processes here (exit status {result.returncode}): "
                  f"{(result.stderr or result.stdout).strip()[-300:]}")
    pytest.skip(reason)


def assert_ok(result, name: str) -> None:
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert f"{name} ok" in result.stdout


# -- under mpiexec -n 2 ----------------------------------------------------------------
def test_collectives_match_numpy(mpi):
    assert_ok(run_mpi([SCENARIOS, "collectives"]), "collectives")


@pytest.mark.parametrize("n", [2, 3])
def test_more_collectives_and_point_to_point_match_numpy(mpi, n):
    assert_ok(run_mpi([SCENARIOS, "more_collectives"], n=n), "more_collectives")


def test_mismatched_calls_and_messages_are_errors_naming_both_sides(mpi):
    assert_ok(run_mpi([SCENARIOS, "mismatched_calls"]), "mismatched_calls")


def test_monitored_barrier_names_the_missing_rank(mpi):
    start = time.monotonic()
    result = run_mpi([SCENARIOS, "missing_at_barrier"], timeout=90)
    output = f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode != 0, output
    assert "monitored_barrier: rank(s) [1] did not reach the barrier within 2 s" in \
        result.stderr, output
    assert time.monotonic() - start < 60


@pytest.mark.parametrize("optimizer, bucket_mb, view", [
    ("sgd", "25", "0"), ("adam", "25", "0"), ("sgd", "0.0005", "0"), ("adam", "25", "1")])
def test_ddp_equals_one_process_on_the_union(mpi, optimizer, bucket_mb, view):
    """On one machine the buckets are summed through shared memory."""
    assert_ok(run_mpi([SCENARIOS, "equivalence", optimizer, bucket_mb, view],
                      EXPECT_SUM_PATH="shared"), "equivalence")


@pytest.mark.parametrize("bucket_mb", ["25", "0.0005"])
def test_ddp_with_mpis_all_reduce_equals_one_process(mpi, bucket_mb):
    """The buckets summed by MPI's all-reduce instead (as between machines)."""
    assert_ok(run_mpi([SCENARIOS, "equivalence", "sgd", bucket_mb],
                      CHAINRULE_DDP_SHARED_MEMORY="0", EXPECT_SUM_PATH="message"),
              "equivalence")


@pytest.mark.parametrize("setting", ["PRETEND_FULL_SHM_ON_RANK", "NO_SHARED_MEMORY_ON_RANK"])
def test_ddp_without_room_in_shared_memory_uses_the_all_reduce(mpi, setting):
    """One rank's /dev/shm is full, or one rank's environment turns shared memory off:
    every rank takes MPI's all-reduce (a full tmpfs would kill the process at the first
    touch of a page, not fail the allocation; ranks summing different ways would hang)."""
    assert_ok(run_mpi([SCENARIOS, "equivalence", "sgd"], EXPECT_SUM_PATH="message",
                      **{setting: "1"}), "equivalence")


@pytest.mark.parametrize("n", [2, 3])
def test_ddp_with_float32_and_float64_parameters(mpi, n):
    assert_ok(run_mpi([SCENARIOS, "two_precisions"], n=n), "two_precisions")


def test_ddp_shared_memory_windows_are_pooled(mpi):
    assert_ok(run_mpi([SCENARIOS, "shared_pool"]), "shared_pool")


def test_no_sync_accumulation_and_unused_parameters(mpi):
    assert_ok(run_mpi([SCENARIOS, "accumulation"]), "accumulation")


@pytest.mark.parametrize("n, divide", [(2, "1"), (3, "0")])
def test_join_trains_on_uneven_inputs_as_one_process(mpi, n, divide):
    assert_ok(run_mpi([SCENARIOS, "uneven", divide], n=n), "uneven")


def test_sync_batchnorm_equals_batchnorm_on_the_union(mpi):
    assert_ok(run_mpi([SCENARIOS, "sync_batchnorm"]), "sync_batchnorm")


def test_mismatched_models_are_named(mpi):
    assert_ok(run_mpi([SCENARIOS, "mismatch"]), "mismatch")


def test_ddp_over_tcp_as_between_machines(mpi):
    """The path ranks on different machines take: MPICH told to use no shared memory
    (MPIR_CVAR_NOLOCAL) and UCX TCP sockets only (here over loopback)."""
    result = run_mpi([SCENARIOS, "equivalence", "sgd", "0.0005"], MPIR_CVAR_NOLOCAL="1",
                     UCX_TLS="tcp,self", EXPECT_SUM_PATH="message")
    if result.returncode != 0 and "equivalence" not in result.stderr and \
            ("MPI_Init" in result.stderr or "ucx" in result.stderr.lower()):
        pytest.skip(f"MPI cannot start over TCP here: {result.stderr.strip()[-300:]}")
    assert_ok(result, "equivalence")


def test_ddp_three_ranks(mpi):
    for bucket_mb in ("25", "0.0005"):  # K-way shared-memory sums; many buckets
        assert_ok(run_mpi([SCENARIOS, "equivalence", "sgd", bucket_mb], n=3,
                          EXPECT_SUM_PATH="shared"), "equivalence")


@pytest.mark.parametrize("how, expected", [
    ("raise", "rank 1 of 2 (pid"),
    ("kill", "BAD TERMINATION"),
    ("exit", "rank 1 of 2"),
    ("stuck", "rank 0 of 2"),
])
def test_a_failing_rank_ends_the_job(mpi, how, expected):
    start = time.monotonic()
    result = run_mpi([SCENARIOS, "fail", how, "1"], timeout=90, SCENARIO_TIMEOUT="3")
    elapsed = time.monotonic() - start
    output = f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode != 0, output
    assert elapsed < 60, f"the job took {elapsed:.0f} s to stop"
    assert expected in result.stdout + result.stderr, output
    if how == "raise":
        assert "ValueError: a bug on this rank" in result.stderr, output
        assert "stopping all 2 ranks" in result.stderr, output
        mapped = [ln.split()[1:] for ln in result.stdout.splitlines()
                  if ln.startswith("mapped:")]
        assert mapped and mapped[0], output
        # an aborted MPICH job would leave its shared-memory files behind for good
        assert not [path for path in mapped[0] if os.path.exists(path)], mapped
    if how == "exit":  # sys.exit(3): the job ends at once with that status, not after the
        # exit wait's timeout (3 s here)
        assert "left: it called sys.exit(3) while the other ranks go on" in result.stderr, \
            output
        assert result.returncode == 3 and elapsed < 3 + 10, output
    if how == "stuck":  # rank 0 waits in the gradients' all-reduce; its watchdog ends it
        assert "gave up: DistributedDataParallel's all_reduce waited more than 3 s for the " \
            "other ranks" in \
            result.stderr, output


def _program_and_port(name: str, tmp_path: Path) -> tuple[Path, Path]:
    """tests/compat/distributed/NAME.py, and a copy with only its import lines pointed at
    chainrule (as tests/compat does); skips without torch, the oracle."""
    pytest.importorskip("torch")
    sys.path.insert(0, str(ROOT / "tests" / "compat"))
    try:
        from test_programs import to_chainrule
    finally:
        sys.path.pop(0)
    program = ROOT / "tests" / "compat" / "distributed" / f"{name}.py"
    ported = tmp_path / f"{name}_chainrule.py"
    ported.write_text(to_chainrule(program.read_text()))
    return program, ported


@pytest.mark.slow
def test_a_pytorch_ddp_script_gives_torchruns_numbers_under_mpiexec(mpi, tmp_path):
    """tests/compat/distributed/ddp_classifier.py as written, under torchrun with real
    torch, and with only its imports pointed at chainrule under mpiexec -n 2 (RANK,
    LOCAL_RANK from the launcher, init_process_group("gloo"), DDP, DistributedSampler,
    all_reduce and all_gather of metrics): the same weights, losses and counts."""
    program, ported = _program_and_port("ddp_classifier", tmp_path)
    theirs_file, ours_file = tmp_path / "torch.json", tmp_path / "chainrule.json"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc_per_node", "2", str(program)]
    result = subprocess.run(torchrun, check=False, capture_output=True, text=True,
                            timeout=180, env=mpi_env(RESULT_FILE=str(theirs_file)))
    if result.returncode != 0 or not theirs_file.exists():
        pytest.skip(f"torchrun cannot run here: {result.stderr.strip()[-300:]}")
    ours = run_mpi([ported], timeout=180, RESULT_FILE=str(ours_file))
    assert ours.returncode == 0, ours.stderr
    import json

    a, b = json.loads(ours_file.read_text()), json.loads(theirs_file.read_text())
    np.testing.assert_allclose(a["losses"], b["losses"], rtol=1e-5)
    assert a["correct"] == b["correct"]
    for key, value in b["state"].items():
        np.testing.assert_allclose(a["state"][key], value, rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.slow
def test_pytorchs_spawn_tutorial_pattern_gives_torchs_numbers(mpi, tmp_path):
    """tests/compat/distributed/ddp_spawn.py, PyTorch's DDP tutorial pattern (mp.spawn,
    init_process_group("gloo", rank=..., world_size=...) over MASTER_ADDR), started as
    `python ddp_spawn.py` with real torch and, with only its imports pointed at chainrule,
    the same way: chainrule's spawn runs it under mpiexec. Same losses and weights."""
    program, ported = _program_and_port("ddp_spawn", tmp_path)
    import socket

    with socket.socket() as probe:  # a port free now (a fixed one may still be in use)
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    theirs = subprocess.run([sys.executable, str(program), str(tmp_path / "torch")],
                            check=False, capture_output=True, text=True, timeout=180,
                            env=mpi_env(MASTER_PORT=port), cwd=tmp_path)
    if theirs.returncode != 0:
        pytest.skip(f"torch's spawn with gloo cannot run here: {theirs.stderr.strip()[-300:]}")
    ours = subprocess.run([sys.executable, str(ported), str(tmp_path / "chainrule")],
                          check=False, capture_output=True, text=True, timeout=180,
                          env=mpi_env(), cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    import json

    for rank in (0, 1):
        a = json.loads((tmp_path / f"chainrule.{rank}").read_text())
        b = json.loads((tmp_path / f"torch.{rank}").read_text())
        np.testing.assert_allclose(a["losses"], b["losses"], rtol=1e-5)
        for key, value in b["state"].items():
            np.testing.assert_allclose(a["state"][key], value, rtol=1e-5, atol=1e-6,
                                       err_msg=f"rank {rank} {key}")


@pytest.mark.parametrize("n, ending", [(2, "barrier"), (2, "exit"), (3, "barrier")])
def test_a_rank_with_more_steps_stops_the_job_within_seconds(mpi, n, ending):
    """The last rank has a batch more than the others and no ddp.join(): without a word
    it would wait out init_process_group's timeout (30 minutes); the watchdogs see that
    it waits in a collective no other rank will make and stop the job, naming both."""
    start = time.monotonic()
    result = run_mpi([SCENARIOS, "uneven_steps", ending], n=n, timeout=90)
    elapsed = time.monotonic() - start
    output = f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode != 0 and elapsed < 45, output
    # DDP's collectives run on a communicator of their own: rank 0's dist.barrier()
    # cannot be matched with the last rank's gradient all-reduce (an MPI error, or mixed
    # values)
    ddp_sum = "DistributedDataParallel's all_reduce (its collective #"
    last = n - 1
    if ending == "exit":  # the last rank alone waits
        said = [f"rank {last} of {n} (pid", f"gave up: {ddp_sum}",
                "rank 0 has reached the end of the program after "]
    elif f"rank {last} of {n} (pid" in result.stderr:  # all wait: any may speak first
        said = [f"gave up: {ddp_sum}", "rank 0 waits in barrier (its"]
    else:
        said = ["gave up: barrier (its", f"rank {last} waits in {ddp_sum}"]
    assert all(words in result.stderr for words in said), output
    assert "`with ddp.join():`" in result.stderr, output
    assert "to evaluate on one rank only, call ddp.module(x)" in result.stderr, output


@pytest.mark.slow
def test_long_waits_for_a_busy_rank_are_no_mistake(mpi):
    start = time.monotonic()
    assert_ok(run_mpi([SCENARIOS, "slow_ranks"], timeout=90), "slow_ranks")
    assert time.monotonic() - start > 12  # the ranks did wait for each other


def _free_port() -> str:
    import socket

    with socket.socket() as probe:  # a port free now (a fixed one may still be in use)
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def _rank_results(folder: Path, n: int = 2) -> list:
    import json

    return [json.loads((folder / f"rank{rank}.json").read_text()) for rank in range(n)]


def assert_same_numbers(ours, theirs, where: str) -> None:
    """What a program wrote under chainrule equals what it wrote under torch: the same
    keys, texts, integers and booleans, and floats (or lists of them) to float32
    round-off."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), \
            f"{where}: keys {sorted(ours) if isinstance(ours, dict) else ours} != {sorted(theirs)}"
        for key, value in theirs.items():
            assert_same_numbers(ours[key], value, f"{where}.{key}")
    elif isinstance(theirs, list) and any(isinstance(v, (dict, str)) for v in theirs):
        assert isinstance(ours, list) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same_numbers(a, b, f"{where}[{i}]")
    elif isinstance(theirs, (list, float)):
        np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float),
                                   rtol=1e-5, atol=1e-6, err_msg=where)
    else:
        assert ours == theirs and type(ours) is type(theirs), f"{where}: {ours!r} != {theirs!r}"


# PyTorch data-parallel programs in tests/compat/distributed/, started as their users
# start them: torchrun, or `python program.py` for those that call mp.spawn
TORCHRUN_PROGRAMS = ["ddp_checkpoint", "ddp_nanogpt_style", "ddp_accumulate_join", "ddp_gan",
                     "ddp_zero"]
SPAWN_PROGRAMS = ["ddp_batchnorm_spawn", "dist_manual_allreduce"]


@pytest.mark.slow
@pytest.mark.parametrize("name", TORCHRUN_PROGRAMS + SPAWN_PROGRAMS)
def test_pytorch_data_parallel_programs_give_torchs_numbers(mpi, tmp_path, name):
    """Each program as written with real torch (gloo, CPU), and with only its import
    lines pointed at chainrule under mpiexec -n 2 (or chainrule's spawn): every rank
    writes the same numbers (and takes the same shuffled shards)."""
    program, ported = _program_and_port(name, tmp_path)
    theirs_dir, ours_dir = tmp_path / "torch", tmp_path / "chainrule"
    theirs_dir.mkdir()
    ours_dir.mkdir()
    if name in TORCHRUN_PROGRAMS:
        theirs = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--standalone",
             "--nproc_per_node", "2", str(program)], check=False, capture_output=True,
            text=True, timeout=180, env=mpi_env(RESULT_DIR=str(theirs_dir)), cwd=tmp_path)
        ours = run_mpi([ported], timeout=180, RESULT_DIR=str(ours_dir))
    else:
        theirs = subprocess.run([sys.executable, str(program), str(theirs_dir)], check=False,
                                capture_output=True, text=True, timeout=180,
                                env=mpi_env(MASTER_PORT=_free_port()), cwd=tmp_path)
        ours = subprocess.run([sys.executable, str(ported), str(ours_dir)], check=False,
                              capture_output=True, text=True, timeout=180, env=mpi_env(),
                              cwd=tmp_path)
    if not all((theirs_dir / f"rank{rank}.json").exists() for rank in (0, 1)):
        # (gloo can crash at teardown after the results are written: they still count)
        pytest.skip(f"torch's distributed run cannot start here: {theirs.stderr.strip()[-300:]}")
    assert ours.returncode == 0, f"{ours.stdout}\n{ours.stderr}"
    for rank, (a, b) in enumerate(zip(_rank_results(ours_dir), _rank_results(theirs_dir))):
        assert_same_numbers(a, b, f"{name} rank {rank}")


def test_spawn_in_one_process_and_its_errors():
    import chainrule.multiprocessing as mp

    seen = []
    assert mp.spawn(lambda rank, x: seen.append((rank, x)), args=("a",), nprocs=1) is None
    assert seen == [(0, "a")]
    with pytest.raises(ValueError, match="nprocs must be a positive integer"):
        mp.spawn(print, nprocs=0)
    with pytest.raises(AttributeError, match="Python's own multiprocessing"):
        mp.Queue  # noqa: B018
    with pytest.raises(AttributeError, match=r"replace the loop of mp.Process.* by "
                                             r"mp.spawn\(fn, args=\(size, ...\), nprocs=size\)"):
        mp.Process  # noqa: B018


# -- in one process ------------------------------------------------------------------------
@pytest.fixture
def world_of_one():
    dist.init_process_group(backend="mpi")
    yield
    dist.destroy_process_group()


def test_world_of_one_without_a_launcher(world_of_one):
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    t, bits = cr.tensor([1.0, -2.0]), cr.tensor([5, 6])
    for op in dist.ReduceOp:
        bitwise = op in (dist.ReduceOp.BAND, dist.ReduceOp.BOR, dist.ReduceOp.BXOR)
        dist.all_reduce(bits if bitwise else t, op=op)
        assert t.tolist() == [1.0, -2.0] and bits.tolist() == [5, 6]
    outs = [cr.zeros(2)]
    dist.all_gather(outs, t)
    assert outs[0].tolist() == [1.0, -2.0]
    with pytest.raises(dist.DistributedError, match="already initialized"):
        dist.init_process_group()


def test_not_initialized_and_bad_arguments():
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        dist.all_reduce(cr.ones(2))
    with pytest.raises(dist.DistributedError, match="backend 'nccl'"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(dist.DistributedError, match="world_size=4"):
        dist.init_process_group(world_size=4)
    assert not dist.is_initialized()


def test_collective_errors(world_of_one):
    with pytest.raises(ValueError, match="op must be"):
        dist.all_reduce(cr.ones(2), op="median")
    with pytest.raises(TypeError, match="Tensor"):
        dist.all_reduce([1.0, 2.0])
    with pytest.raises(ValueError, match="src=3"):
        dist.broadcast(cr.ones(2), src=3)
    with pytest.raises(ValueError, match=r"tensor_list\[0\] has shape \(3,\)"):
        dist.all_gather([cr.zeros(3)], cr.ones(2))


def test_ddp_in_a_world_of_one_is_the_plain_model(world_of_one):
    cr.manual_seed(0)
    model = cr.nn.MLP([4, 8, 3]).double()
    cr.manual_seed(0)
    plain = cr.nn.MLP([4, 8, 3]).double()
    ddp = DistributedDataParallel(model, bucket_cap_mb=0.0001)
    assert ddp.module is model
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 4)))
    ddp(x).sum().backward()
    plain(x).sum().backward()
    for p, q in zip(model.parameters(), plain.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14)
    assert ddp.synchronized_steps == 0  # one process: nothing to average, no copies


def test_sync_batchnorm_in_a_world_of_one_is_batchnorm(world_of_one):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4, 3))
    for train in (True, False):
        sync, plain = cr.nn.SyncBatchNorm(4).double(), cr.nn.BatchNorm1d(4).double()
        sync.train(train)
        plain.train(train)
        xs, xp = (cr.tensor(x, requires_grad=True) for _ in range(2))
        (sync(xs) * cr.tensor(np.cos(x))).sum().backward()
        (plain(xp) * cr.tensor(np.cos(x))).sum().backward()
        np.testing.assert_allclose(xs.grad.numpy(), xp.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(sync.weight.grad.numpy(), plain.weight.grad.numpy())
        np.testing.assert_allclose(sync.running_var.numpy(), plain.running_var.numpy())


def test_sync_batch_norm_op_gradcheck():
    from chainrule.nn.sync_batchnorm import sync_batch_norm

    rng = np.random.default_rng(0)
    x, w, b = (cr.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((5, 3, 2), (3,), (3,)))
    assert cr.gradcheck(lambda x, w, b: sync_batch_norm(x, w, b, (0, 2), 1e-5, (1, 3, 1)),
                        x, w, b)


def test_ddp_state_dict_has_the_module_prefix(world_of_one):
    ddp = DistributedDataParallel(cr.nn.Linear(2, 3))
    keys = list(ddp.state_dict())
    assert keys == ["module.weight", "module.bias"]
    bare = ddp.module.state_dict()
    with pytest.raises(cr.nn.StateDictError, match=r"ddp.module.load_state_dict"):
        ddp.load_state_dict(bare)
    ddp.load_state_dict(ddp.state_dict())
    sd = ddp.state_dict()
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert list(sd) == ["weight", "bias"]
    cr.nn.Linear(2, 3).load_state_dict(sd)


def test_ddp_rejects_gpu_arguments(world_of_one):
    with pytest.raises(ValueError, match="device_ids"):
        DistributedDataParallel(cr.nn.Linear(2, 2), device_ids=[0])
    with pytest.raises(TypeError, match="Module"):
        DistributedDataParallel(lambda x: x)


def test_ddp_refuses_a_model_with_nothing_to_train(world_of_one):
    """As PyTorch: wrapping a module without trainable parameters is a mistake (a
    parameter-free activation, or a model frozen before wrapping), named here."""
    with pytest.raises(RuntimeError, match=r"wrapped ReLU has no parameter that requires a "
                                           r"gradient \(it has none\)"):
        DistributedDataParallel(cr.nn.ReLU())
    frozen = cr.nn.Sequential(cr.nn.Linear(2, 3), cr.nn.BatchNorm1d(3)).requires_grad_(False)
    with pytest.raises(RuntimeError, match=r"wrapped Sequential .*its 4 parameters are all "
                                           r"frozen.*without the wrapper"):
        DistributedDataParallel(frozen)
    frozen[0].weight.requires_grad_(True)  # one trainable parameter is enough
    assert DistributedDataParallel(frozen).module is frozen


def test_ddp_needs_a_process_group():
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        DistributedDataParallel(cr.nn.Linear(2, 2))


def test_post_accumulate_grad_hook_and_queue_callback():
    w = cr.nn.Parameter(cr.ones(3))
    events = []
    handle = w.register_post_accumulate_grad_hook(
        lambda p: (events.append(("hook", p.grad.tolist())),
                   cr.autograd.queue_callback(lambda: events.append(("end", None)))))
    (w * 2).sum().backward()
    assert events == [("hook", [2.0, 2.0, 2.0]), ("end", None)]
    handle.remove()
    (w * 2).sum().backward()
    assert len(events) == 2
    with pytest.raises(RuntimeError, match="no backward pass"):
        cr.autograd.queue_callback(lambda: None)


def test_leaf_hooks_run_as_soon_as_their_gradient_is_final():
    """With hooks registered, backward finishes each weight right after the layer that
    uses it (last layer first), not after the whole graph: DDP's buckets can start early."""
    from chainrule.autograd import _post_accumulate_hooks, observe

    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 2))
    names = {id(p): n for n, p in model.named_parameters()}
    events = []
    handles = [p.register_post_accumulate_grad_hook(lambda p: events.append(names[id(p)]))
               for p in model.parameters()]
    with observe(lambda node, g, grads: node.op and events.append(str(node.op))):
        model(cr.randn(3, 4)).sum().backward()
    assert events == ["sum", "linear", "2.bias", "2.weight", "tanh", "linear", "0.bias",
                      "0.weight"]
    for h in handles:
        h.remove()
    assert not any(id(p) in _post_accumulate_hooks for p in model.parameters())


# -- the sampler ---------------------------------------------------------------------------
@pytest.mark.parametrize("n, k, drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                             (5, 8, False), (7, 2, True)])
def test_sampler_shards_are_disjoint_and_cover(n, k, drop_last):
    samplers = [DistributedSampler(range(n), num_replicas=k, rank=r, seed=3,
                                   drop_last=drop_last) for r in range(k)]
    for s in samplers:
        s.set_epoch(2)
    shards = [list(s) for s in samplers]
    lengths = {len(s) for s in shards}
    assert lengths == {len(samplers[0])}
    joined = [i for shard in shards for i in shard]
    if drop_last:
        assert len(joined) == len(set(joined)) == (n // k) * k
    else:
        assert set(joined) == set(range(n)) and len(joined) == samplers[0].total_size
        assert len(joined) - n < k  # padding repeats fewer than one index per rank
    # like PyTorch: every epoch its own order; the same epoch the same order
    again = DistributedSampler(range(n), num_replicas=k, rank=0, seed=3, drop_last=drop_last)
    again.set_epoch(2)
    assert list(again) == shards[0]
    again.set_epoch(3)
    assert n < 4 or list(again) != shards[0] or k >= n


@pytest.mark.parametrize("shuffle", [False, True])
def test_sampler_matches_pytorch(shuffle):
    """Index for index, shuffled too (torch's randperm from seed + epoch): a program
    takes the same batches under chainrule as under torch."""
    pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for n, k, drop_last, seed in [(10, 3, False, 0), (10, 3, True, 7), (3, 5, False, 1),
                                  (101, 4, False, 2**40 + 9), (50, 2, True, -3)]:
        for r in range(k):
            ours = DistributedSampler(range(n), k, r, shuffle=shuffle, seed=seed,
                                      drop_last=drop_last)
            theirs = TorchSampler(range(n), k, r, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)
            for epoch in (0, 1, 5):
                ours.set_epoch(epoch)
                theirs.set_epoch(epoch)
                assert list(ours) == list(theirs), (n, k, r, drop_last, seed, epoch)


def test_torch_randperm_is_torchs():
    torch = pytest.importorskip("torch")
    from chainrule.data.distributed import torch_randperm

    for n in (0, 1, 2, 7, 1000):
        for seed in (0, 42, 2**32 + 5, 2**63 - 1):
            generator = torch.Generator()
            generator.manual_seed(seed)
            expected = torch.randperm(n, generator=generator).tolist()
            assert torch_randperm(n, seed).tolist() == expected, (n, seed)


def test_sampler_feeds_a_data_loader():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    dataset = cr.data.TensorDataset(x, np.arange(10))
    seen = []
    for rank in range(3):
        sampler = DistributedSampler(dataset, num_replicas=3, rank=rank, seed=1)
        sampler.set_epoch(4)
        loader = cr.data.DataLoader(dataset, batch_size=2, sampler=sampler)
        batches = [yb.tolist() for _, yb in loader]
        assert [len(b) for b in batches] == [2, 2]  # 4 samples per rank (10 padded to 12)
        seen += [i for b in batches for i in b]
    assert set(seen) == set(range(10)) and len(seen) == 12


def test_sampler_warns_when_epochs_repeat_without_set_epoch():
    sampler = DistributedSampler(range(10), num_replicas=2, rank=0, seed=3)
    first = list(sampler)
    assert list(sampler) == first  # two passes: perhaps a look at the shard, then the loader
    with pytest.warns(UserWarning, match=r"iterated 3 times at epoch 0: with shuffle=True "
                                         r"every epoch repeats the same order unless "
                                         r"sampler.set_epoch\(epoch\) is called"):
        assert list(sampler) == first  # the order PyTorch would repeat, silently
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(sampler)  # said once
        looked = DistributedSampler(range(10), num_replicas=2, rank=0, seed=3)
        for epoch in range(5):  # the loop as it should be: silent, a new order each time
            looked.set_epoch(epoch)
            assert list(looked) == list(looked)  # two passes per epoch
        sampler.set_epoch(1)
        assert list(sampler) != first
        unshuffled = DistributedSampler(range(10), num_replicas=2, rank=0, shuffle=False)
        assert [list(unshuffled) for _ in range(4)]  # nothing repeats wrongly without shuffle


def test_sampler_errors():
    with pytest.raises(ValueError, match="invalid rank 3"):
        DistributedSampler(range(4), num_replicas=3, rank=3)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))


# -- mpiexec -n 2 chainrule train ------------------------------------------------------------
def chainrule_train(args: list, n: int, cwd: Path, timeout: float = 180):
    command = [sys.executable, "-m", "chainrule", "train", "--no-progress", "--hidden", "32",
               "--no-monitor"] + [str(a) for a in args]
    if n > 1:
        command = [mpiexec_path(), "-n", str(n)] + command
    return subprocess.run(command, check=False, capture_output=True, text=True,
                          timeout=timeout, env=mpi_env(), cwd=cwd)


def final_weights(folder: Path) -> dict:
    state = cr.load(folder / "checkpoint.safetensors")
    return {k: np.asarray(v) for k, v in state["model"].items()}


def test_train_data_parallel_equals_one_process_and_resumes_across_sizes(mpi, tmp_path):
    """K = 2 processes × batch 32 = one process × batch 64, and a checkpoint written by 2
    processes resumes on 1 and the other way round, continuing the same run."""
    reference = chainrule_train(["--epochs", "3", "--batch-size", "64", "--out", "one"], 1,
                                tmp_path)
    assert reference.returncode == 0, reference.stderr
    first = chainrule_train(["--epochs", "1", "--batch-size", "32", "--out", "mixed"], 2,
                            tmp_path)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "global batch 64 = 2 × 32 per process" in out
    assert out.count("test accuracy") == 1 and out.count("epoch 1/1") == 1  # rank 0 only
    assert "rank 1 = pid" in out
    second = chainrule_train(["--resume", "--epochs", "2", "--out", "mixed"], 1, tmp_path)
    assert second.returncode == 0, second.stderr
    third = chainrule_train(["--resume", "--epochs", "3", "--out", "mixed"], 2, tmp_path)
    assert third.returncode == 0, third.stderr
    assert "global batch 64 = 2 × 32 per process" in third.stdout
    ours, theirs = final_weights(tmp_path / "mixed"), final_weights(tmp_path / "one")
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-5, err_msg=key)
    history = [line for line in (tmp_path / "mixed" / "metrics.csv").read_text().splitlines()]
    assert len(history) == 4  # header + 3 epochs, written by rank 0 alone
    single = (tmp_path / "one" / "metrics.csv").read_text().splitlines()
    assert history[0] == single[0]  # the same columns in the same order
    assert not [p for p in (tmp_path / "mixed").iterdir() if p.name.startswith(".")]


# the CNN without its dropout: masks are drawn per rank, so only a model without dropout
# takes exactly a single process's steps
CNN_WITHOUT_DROPOUT = ("import sys; import chainrule.train.models as models; "
                       "models._CNN_DROPOUT = 0.0; from chainrule.cli import main; "
                       "sys.exit(main(sys.argv[1:]))")


def test_train_cnn_batchnorm_uses_the_global_batch(mpi, tmp_path):
    """2 processes × batch 16 = one process × batch 32 for the CNN: its BatchNorm layers
    normalize by the global batch's statistics (SyncBatchNorm), and the checkpoint has
    a single process's keys. (SGD: Adam turns the round-off in the zero gradients of the
    conv biases before BatchNorm into steps of size lr. Plain BatchNorm on each rank's
    shard is off by 0.16 here.)"""
    runs = {}
    for n, batch in ((1, 32), (2, 16)):
        command = [sys.executable, "-c", CNN_WITHOUT_DROPOUT, "train", "--model", "cnn",
                   "--optimizer", "sgd", "--epochs", "1", "--batch-size", str(batch),
                   "--no-progress",
                   "--no-monitor", "--out", f"cnn{n}"]
        if n > 1:
            command = [mpiexec_path(), "-n", str(n)] + command
        result = subprocess.run(command, check=False, capture_output=True, text=True,
                                timeout=180, env=mpi_env(), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        runs[n] = final_weights(tmp_path / f"cnn{n}")
    assert list(runs[2]) == list(runs[1])
    assert any(key.endswith("running_var") for key in runs[1])
    for key, value in runs[1].items():
        np.testing.assert_allclose(runs[2][key], value, rtol=1e-4, atol=1e-5, err_msg=key)


def test_train_global_batch_and_errors_under_mpiexec(mpi, tmp_path):
    result = chainrule_train(["--epochs", "1", "--global-batch", "49", "--out", "g"], 2,
                             tmp_path)
    assert result.returncode == 0, result.stderr
    assert "global batch 49 = 2 × 24–25 per process" in result.stdout, result.stdout
    # an error every rank finds (settings, data, a missing checkpoint, a bad flag): rank 0
    # alone tells it, in one line, and the job ends with status 2, without an abort
    for flags, line in [
        (["--batch-size", "16", "--global-batch", "49", "--out", "both"],
         ("--batch-size 16 per process × 2 processes = 32 disagrees with --global-batch 49: "
         "give one of them")),
        (["--resume", "--epochs", "2", "--batch-size", "16", "--out", "g"],
         ("--batch-size 16 × 2 processes = 32 differs from the batch of 49 that "
         f"{Path('g') / 'checkpoint.safetensors'} was trained with; --resume continues "
         "with the saved settings (only --epochs may change): drop the flag, or start a "
         "new run in another --out")),
        (["--resume", "--out", "missing"],
         (f"{Path('missing') / 'checkpoint.safetensors'}: no such checkpoint (nothing to "
         "resume: train without --resume first)")),
        (["--batch-size", "32", "--global-batch", "100", "--out", "default"],  # 32: default
         ("--batch-size 32 per process × 2 processes = 64 disagrees with --global-batch 100: "
         "give one of them")),
        (["--global-batch", "0"],
         "argument --global-batch: must be positive, got 0 (see chainrule train --help)"),
    ]:
        result = chainrule_train(["--epochs", "1"] + flags, 2, tmp_path)
        output = f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}"
        assert result.returncode == 2, output
        assert result.stderr.splitlines() == [f"chainrule train: error: {line}"], output
    # an error of rank 0 alone (only it writes the output folder): its line names it and
    # the job is stopped instead of leaving rank 1 waiting in a collective
    (tmp_path / "a_file").write_text("")
    start = time.monotonic()
    result = chainrule_train(["--epochs", "1", "--out", "a_file/run"], 2, tmp_path)
    output = f"exit status {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 2, output
    assert "chainrule.distributed: rank 0 of 2 (pid" in result.stderr, output
    assert "cannot create the output folder a_file/run" in result.stderr, output
    assert "rank 1 of 2" not in result.stderr, output
    assert time.monotonic() - start < 60


def test_killing_one_process_ends_the_job_and_keeps_the_checkpoint(mpi, tmp_path):
    command = [mpiexec_path(), "-n", "2", sys.executable, "-m", "chainrule", "train",
               "--no-progress", "--no-monitor", "--hidden", "32", "--epochs", "500",
               "--batch-size", "8", "--patience", "0", "--out", "run"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=mpi_env(PYTHONUNBUFFERED="1"), cwd=tmp_path)
    try:
        pids = {}
        for line in process.stdout:
            if line.startswith("2 processes:"):  # "rank 0 = pid 12 on host, rank 1 = ..."
                for part in line.split(":", 1)[1].split(","):
                    words = part.split()
                    pids[int(words[1])] = int(words[4])
            if line.split()[:2] == ["epoch", "2/500"]:
                break
        assert set(pids) == {0, 1} and process.poll() is None, process.stderr.read()
        os.kill(pids[1], 9)
        start = time.monotonic()
        rest, stderr = process.communicate(timeout=60)
        elapsed = time.monotonic() - start
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0
    assert elapsed < 60
    # the launcher names a PID of the job, killed by signal 9 (on stdout or stderr), and
    # the header maps it to a rank; which one it names first (the killed rank 1, or rank 0
    # that it then stopped) is a race of the launcher's
    text = rest + stderr
    assert any(f"PID {pid} " in text for pid in pids.values()), text
    assert "signal 9" in text or "SIGNAL: 9" in text, text
    state = cr.load(tmp_path / "run" / "checkpoint.safetensors")  # intact and complete
    assert int(state["epoch"]) >= 1
    resumed = chainrule_train(["--resume", "--epochs", str(int(state["epoch"]) + 1),
                               "--out", "run"], 1, tmp_path)
    assert resumed.returncode == 0, resumed.stderr


def test_launcher_environment_becomes_torchruns_variables():
    from chainrule.distributed.process_group import export_launcher_environment

    hydra = {"PMI_RANK": "1", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"}
    export_launcher_environment(hydra)
    assert (hydra["RANK"], hydra["WORLD_SIZE"], hydra["LOCAL_RANK"],
            hydra["LOCAL_WORLD_SIZE"]) == ("1", "4", "1", "2")
    open_mpi = {"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "8",
                "OMPI_COMM_WORLD_LOCAL_RANK": "0"}
    export_launcher_environment(open_mpi)
    assert (open_mpi["RANK"], open_mpi["WORLD_SIZE"], open_mpi["LOCAL_RANK"]) == \
        ("3", "8", "0")
    assert "LOCAL_WORLD_SIZE" not in open_mpi  # the launcher did not say: not guessed
    torchrun = {"RANK": "0", "WORLD_SIZE": "2", "PMI_RANK": "5", "PMI_SIZE": "9"}
    export_launcher_environment(torchrun)  # already set: left alone
    assert torchrun["RANK"] == "0" and torchrun["WORLD_SIZE"] == "2"
    alone = {}
    export_launcher_environment(alone)  # no launcher: nothing set
    assert alone == {}


def test_pytorch_names_chainrule_lacks_say_what_to_use(world_of_one):
    with pytest.raises(AttributeError, match="TCPStore is not part of chainrule; in "
                                             "chainrule: not needed: the MPI launcher"):
        dist.TCPStore  # noqa: B018
    with pytest.raises(AttributeError, match="torch.distributed.nonsense is not part"):
        dist.nonsense  # noqa: B018
    ddp = DistributedDataParallel(cr.nn.Linear(2, 2))
    with pytest.raises(AttributeError, match="register_comm_hook .PyTorch's. is not part of "
                                             "chainrule: gradients are averaged"):
        ddp.register_comm_hook(None, None)
    with ddp.join():  # a world of one: a plain block
        ddp(cr.ones(1, 2)).sum().backward()
    assert dist.get_node_local_rank(fallback_rank=0) == int(os.environ.get("LOCAL_RANK", "0"))
    with pytest.raises(ValueError, match="no other rank to receive from"):
        dist.recv(cr.zeros(2))


def test_torchruns_record_decorator_lets_the_failure_policy_speak():
    from chainrule.distributed.elastic.multiprocessing.errors import record

    @record
    def main(x):
        if x < 0:
            raise ValueError(f"bad {x}")
        if x == 0:
            raise SystemExit(0)
        if x == 1:
            sys.exit(4)
        return x * 2

    assert main(3) == 6 and main.__name__ == "main"
    assert main(0) is None  # a clean exit is a return, as PyTorch's
    with pytest.raises(ValueError, match="bad -1"):  # the process group names the rank
        main(-1)
    with pytest.raises(SystemExit) as leaving:
        main(1)
    assert leaving.value.code == 4
    assert record()(lambda: 5)() == 5
    assert dist.elastic.multiprocessing.errors.record is record
    with pytest.raises(AttributeError, match="only multiprocessing.errors.record is here"):
        dist.elastic.rendezvous  # noqa: B018


def test_zero_redundancy_optimizer_in_a_world_of_one_is_its_optimizer(world_of_one):
    """One rank holds every share: the steps, the schedule and the checkpoint are the
    wrapped optimizer's. (Two ranks against torch's: compat program ddp_zero.)"""
    from chainrule.distributed.optim import ZeroRedundancyOptimizer

    def model():
        cr.manual_seed(3)
        return cr.nn.Sequential(cr.nn.Linear(4, 5), cr.nn.Tanh(), cr.nn.Linear(5, 2)).double()

    sharded, plain = model(), model()
    zero = ZeroRedundancyOptimizer(sharded.parameters(), optimizer_class=cr.optim.Adam,
                                   lr=0.05, weight_decay=0.01)
    adam = cr.optim.Adam(plain.parameters(), lr=0.05, weight_decay=0.01)
    schedules = [cr.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5) for o in (zero, adam)]
    x = cr.tensor(np.random.default_rng(0).standard_normal((6, 4)))
    for _ in range(5):
        for net, opt, schedule in ((sharded, zero, schedules[0]), (plain, adam, schedules[1])):
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
            schedule.step()
    for p, q in zip(sharded.parameters(), plain.parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-12)
    assert zero.param_groups[0]["lr"] == adam.param_groups[0]["lr"] == 0.05 / 4
    assert zero.param_groups[0]["betas"] == (0.9, 0.999)  # the wrapped optimizer's defaults
    with pytest.raises(RuntimeError, match=r"call consolidate_state_dict\(to=R\) on every "
                                           r"rank first"):
        zero.state_dict()
    zero.consolidate_state_dict(to=0)
    saved, expected = zero.state_dict(), adam.state_dict()
    assert saved["param_groups"] == expected["param_groups"]
    for i, values in expected["state"].items():
        for key, value in values.items():
            np.testing.assert_allclose(saved["state"][i][key], value, rtol=1e-12)
    fresh = ZeroRedundancyOptimizer(model().parameters(), optimizer_class=cr.optim.Adam, lr=1.0)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.05 / 4 and len(fresh.optim.state) == 4
    cr.optim.Adam(model().parameters()).load_state_dict(saved)  # the plain layout
    with pytest.raises(ValueError, match="overlap_with_ddp=True needs"):
        ZeroRedundancyOptimizer(model().parameters(), cr.optim.SGD, overlap_with_ddp=True)
    with pytest.raises(TypeError, match="optimizer_class must be an optimizer class"):
        ZeroRedundancyOptimizer(model().parameters(), "adam")
    with pytest.raises(NotImplementedError, match="build the optimizer with all its groups"):
        zero.add_param_group({"params": [cr.ones(2, requires_grad=True)]})
    with pytest.raises(AttributeError, match="has ZeroRedundancyOptimizer"):
        dist.optim.DistributedOptimizer  # noqa: B018


def test_a_torchrun_world_without_an_mpi_launcher_is_refused(monkeypatch):
    """torchrun sets WORLD_SIZE=2 but starts no MPI: each process would train alone."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(dist.DistributedError, match="world_size=2 says this process is one "
                                                    "of 2 .started by torchrun"):
        dist.init_process_group("gloo")
    assert not dist.is_initialized()
    monkeypatch.setenv("WORLD_SIZE", "1")
    dist.init_process_group("gloo")
    assert dist.get_world_size() == 1
    dist.destroy_process_group()


class _SilentPair:
    """A world of two whose reductions do nothing: DDP's bookkeeping, in one process."""

    size, rank = 2, 0

    def allreduce(self, buf, op):
        pass

    def iallreduce(self, buf, op):
        return None

    def waitall(self, requests):
        pass

    def allgather_object(self, obj):
        return [obj, obj]

    def bcast(self, buf, src):
        pass

    def shared_pool(self):
        return None  # as ranks on different machines: the all-reduce path

    def internal_view(self):
        return self


def test_ddp_reuses_its_bucket_unless_a_gradient_is_kept(world_of_one, monkeypatch):
    """The same bucket memory step after step when zero_grad() dropped every .grad (MPI
    maps an address once); a new one when a .grad, or a view of it, is still held, so
    that it keeps its values."""
    import weakref

    import chainrule.distributed.process_group as pg

    monkeypatch.setattr(pg, "_world", lambda caller: _SilentPair())
    model = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.ReLU(), cr.nn.Linear(3, 2))
    ddp = DistributedDataParallel(model)
    opt = cr.optim.SGD(ddp.parameters(), lr=0.1)

    def step():  # a weak reference: holding the bucket here would count as a holder
        opt.zero_grad()
        ddp(cr.ones(2, 4)).sum().backward()
        opt.step()
        return weakref.ref(ddp._buckets[0].flat)

    first = step()
    assert all(step()() is first() for _ in range(3))
    kept = model[0].weight.grad
    values = kept.numpy().copy()
    assert step()() is not first()
    np.testing.assert_array_equal(kept.numpy(), values)
    part = model[2].bias.grad.numpy()[:1]  # a view of the bucket's memory
    held = weakref.ref(ddp._buckets[0].flat)
    assert step()() is not held()
    del part
    latest = step()
    assert step()() is latest()


@pytest.mark.slow  # a few mpiexec launches
def test_bench_ddp_quick_prints_its_tables(mpi):
    """bench/bench_ddp.py runs end to end (--quick) with its paired K = 1 / K = 2 job; no
    timing is asserted, only that every table has numbers."""
    script = Path(__file__).resolve().parents[1] / "bench" / "bench_ddp.py"
    proc = subprocess.run([sys.executable, str(script), "--quick", "--models", "mlp",
                           "--frameworks", "chainrule,numpy"], capture_output=True,
                          text=True, timeout=600, env=mpi_env(), check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "failed" not in out, out
    paired = out.split("alternating blocks", 1)[1]
    for framework in ("chainrule", "numpy"):
        row = next(ln for ln in paired.splitlines() if ln.startswith(framework))
        numbers = [float(v) for v in row.split()[1:]]
        assert len(numbers) == 6 and all(v > 0 for v in numbers), row
    assert "DDP scaling efficiency at K = 2 measured this way" in out
    assert "One bucket summed" in out and "Cost model" in out
