"""Grad mode and the other mode flags are per thread, as PyTorch's; the in-place check
never forgets a change."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule import tensor as _t_function  # noqa: F401  (cr.tensor is the function)
from chainrule.autograd import observe

_t = __import__("chainrule._tensor", fromlist=["_buffer_stamps"])


def _train(seed: int, steps: int, barrier: threading.Barrier | None = None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = cr.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    x = cr.tensor(rng.standard_normal((16, 5)))
    y = cr.tensor(rng.standard_normal((16, 3)))
    for _ in range(steps):
        if barrier is not None:
            barrier.wait()
        loss = ((x @ w).tanh() - y).pow(2).mean()
        loss.backward()
        with cr.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    return w.numpy().copy()


def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    stop = threading.Event()
    errors = []

    def inference():
        x = cr.randn(50, 50)
        try:
            while not stop.is_set():
                with cr.no_grad():
                    for _ in range(20):
                        x = (x @ x.T).tanh()
        except Exception as e:  # noqa: BLE001 - any failure in the thread is reported below
            errors.append(e)

    t = threading.Thread(target=inference)
    t.start()
    try:
        trained = _train(0, 300)
    finally:
        stop.set()
        t.join()
    assert not errors
    np.testing.assert_array_equal(trained, _train(0, 300))
    assert cr.is_grad_enabled()


def test_two_threads_training_two_models_match_training_each_alone():
    alone = [_train(1, 200), _train(2, 200)]
    results = [None, None]
    barrier = threading.Barrier(2)

    def run(i):
        results[i] = _train(i + 1, 200, barrier)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, alone):
        np.testing.assert_array_equal(got, want)
    assert cr.is_grad_enabled()  # never left off after the threads finished


def test_grad_mode_of_a_new_thread_is_on_even_inside_no_grad():
    seen = []
    with cr.no_grad():
        t = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        t.start()
        t.join()
        assert not cr.is_grad_enabled()
    assert seen == [True]


def test_backward_does_not_flip_a_process_wide_switch():
    """During one thread's backward (grad mode off inside it), another thread records."""
    recorded = []
    inside = threading.Event()
    release = threading.Event()

    def watcher(node, g, grads):
        if not inside.is_set():
            inside.set()
            release.wait(5)

    def other():
        inside.wait(5)
        a = cr.tensor(1.0, requires_grad=True)
        recorded.append((a * 2).requires_grad)
        release.set()

    t = threading.Thread(target=other)
    t.start()
    x = cr.tensor(3.0, requires_grad=True)
    with observe(watcher):
        (x * x).backward()
    t.join()
    assert recorded == [True]


def test_anomaly_mode_is_per_thread():
    seen = []
    with cr.detect_anomaly():
        t = threading.Thread(target=lambda: seen.append(cr.log(cr.tensor(0.0)).item()))
        t.start()
        t.join()
    assert seen == [-np.inf]  # the other thread was not checked


def test_the_in_place_check_never_forgets():
    """Past 100,000 stamped buffers the old table was cleared, and a change behind
    backward's back gave a silently wrong gradient."""
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1
    view = h.reshape(2, 1)
    y = (view * view).sum()  # mul saves the view; its buffer is h's
    with cr.no_grad():
        h.array[0] = 100.0
        h._version += 1
    keep = [cr.zeros(1) for _ in range(101_000)]
    for t in keep:
        t.zero_()  # stamps one buffer each: the old table forgot h's change here
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()
    # the table holds live buffers only: entries go with their arrays
    n_live = len(_t._buffer_stamps)
    del keep
    gc.collect()
    assert len(_t._buffer_stamps) < n_live - 100_000
