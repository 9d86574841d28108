"""Seeds and generators: cr.manual_seed and cr.Generator as torch's."""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.nn import init


@pytest.fixture(autouse=True)
def _restore_global_seed():
    yield
    cr.manual_seed(0)


def test_negative_seed_wraps_into_64_bits_as_torch():
    cr.manual_seed(-1)
    assert cr.initial_seed() == 2**64 - 1
    a = cr.randn(4).numpy()
    cr.manual_seed(2**64 - 1)
    np.testing.assert_array_equal(cr.randn(4).numpy(), a)
    cr.manual_seed(-(2**63))
    assert cr.initial_seed() == 2**63


def test_negative_seed_matches_torch_wrapping():
    torch = pytest.importorskip("torch")
    for s in (-1, -12345, -(2**63), 0, 2**63, 2**64 - 1):
        assert cr.manual_seed(s).initial_seed() == torch.manual_seed(s).initial_seed()


@pytest.mark.parametrize("bad", ["abc", "5", 1.5, None, [1]])
def test_seed_of_wrong_type_is_a_clear_type_error(bad):
    with pytest.raises(TypeError, match=r"manual_seed: the seed must be an integer"):
        cr.manual_seed(bad)
    with pytest.raises(TypeError, match=r"Generator.manual_seed: the seed must be an integer"):
        cr.Generator().manual_seed(bad)


@pytest.mark.parametrize("bad", [2**64, -(2**63) - 1])
def test_seed_out_of_64_bits_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match=r"out of range.*\[-2\*\*63, 2\*\*64\)"):
        cr.manual_seed(bad)


def test_numpy_integer_and_bool_seeds_are_accepted():
    assert cr.manual_seed(np.int64(5)).initial_seed() == 5
    assert cr.manual_seed(True).initial_seed() == 1


def test_manual_seed_returns_the_one_global_generator():
    g = cr.manual_seed(3)
    assert g is cr.default_generator and isinstance(g, cr.Generator)
    a = cr.rand(3).numpy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(cr.rand(3).numpy(), a)


def _draws(generator):
    """One draw from every function that accepts generator=."""
    w = cr.zeros(2, 3)
    x = cr.ones(50)
    return [
        cr.randn(2, 3, generator=generator).numpy(),
        cr.rand(4, generator=generator).numpy(),
        cr.randint(0, 10, (5,), generator=generator).numpy(),
        cr.randperm(6, generator=generator).numpy(),
        cr.zeros(3).normal_(0.0, 2.0, generator=generator).numpy(),
        cr.zeros(3).uniform_(-1.0, 1.0, generator=generator).numpy(),
        init.xavier_uniform_(w, generator=generator).numpy().copy(),
        F.dropout(x, 0.5, training=True, generator=generator).numpy(),
    ]


def test_seeded_generator_repeats_everywhere_and_leaves_the_global_stream_alone():
    cr.manual_seed(11)
    expected_global = cr.randn(3).numpy()
    cr.manual_seed(11)
    first = _draws(cr.Generator().manual_seed(42))
    second = _draws(cr.Generator().manual_seed(42))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other = _draws(cr.Generator().manual_seed(43))
    assert not np.array_equal(first[0], other[0])
    # the global stream did not advance while the private generators drew
    np.testing.assert_array_equal(cr.randn(3).numpy(), expected_global)


def test_generator_api_as_torch():
    g = cr.Generator()
    assert g.device == "cpu"
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    chosen = g.seed()
    assert g.initial_seed() == chosen and 0 <= chosen < 2**64
    with pytest.raises(ValueError, match="device"):
        cr.Generator(device="cuda")
    # a fresh generator is deterministic (PyTorch's default seed) until seeded
    np.testing.assert_array_equal(cr.rand(3, generator=cr.Generator()).numpy(),
                                  cr.rand(3, generator=cr.Generator()).numpy())


def test_generator_state_round_trips_through_a_checkpoint(tmp_path):
    g = cr.Generator().manual_seed(9)
    cr.randn(5, generator=g)
    cr.save({"g": g.get_state()}, tmp_path / "g.safetensors")
    expected = cr.randn(4, generator=g).numpy()
    h = cr.Generator().set_state(cr.load(tmp_path / "g.safetensors")["g"])
    assert h.initial_seed() == 9
    np.testing.assert_array_equal(cr.randn(4, generator=h).numpy(), expected)
    with pytest.raises(TypeError, match="get_state"):
        h.set_state(b"bytes")


def test_generator_copies_and_pickles_with_its_position():
    g = cr.Generator().manual_seed(1)
    cr.rand(2, generator=g)
    for clone in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        np.testing.assert_array_equal(cr.rand(3, generator=clone).numpy(),
                                      cr.rand(3, generator=copy.deepcopy(g)).numpy())


def test_generator_answers_numpy_sampling_methods_from_its_stream():
    a = cr.Generator().manual_seed(2)
    b = cr.Generator().manual_seed(2)
    np.testing.assert_array_equal(a.permutation(10), cr.random.numpy_generator(b).permutation(10))
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        a.nonsense  # noqa: B018


@pytest.mark.parametrize("bad", [7, "seed", object()])
def test_wrong_generator_argument_is_a_clear_type_error(bad):
    with pytest.raises(TypeError, match=r"generator must be a chainrule.Generator"):
        cr.randn(2, generator=bad)


def test_torch_generator_is_refused_with_the_replacement_named():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"chainrule.Generator\(\).manual_seed"):
        cr.rand(2, generator=torch.Generator().manual_seed(0))


def test_rng_state_is_a_uint8_tensor_as_in_torch():
    torch = pytest.importorskip("torch")
    assert str(torch.get_rng_state().dtype) == "torch.uint8"  # what programs rely on
    cr.manual_seed(3)
    state = cr.get_rng_state()
    assert isinstance(state, cr.Tensor) and state.dtype == cr.uint8 and state.dim() == 1
    expected = cr.randn(4).numpy()
    # programs clone it, move it with .cpu() and compare states with torch.equal
    cr.set_rng_state(state.clone().cpu())
    np.testing.assert_array_equal(cr.randn(4).numpy(), expected)
    assert cr.initial_seed() == 3
    assert cr.equal(cr.get_rng_state(), cr.get_rng_state())
    before = cr.get_rng_state()
    with cr.random.fork_rng():
        cr.rand(7)
    assert cr.equal(cr.get_rng_state(), before)
    cr.rand(1)
    assert not cr.equal(cr.get_rng_state(), before)


def test_rng_state_survives_a_checkpoint_and_the_old_dict_form_still_loads(tmp_path):
    g = cr.Generator().manual_seed(4)
    cr.rand(3, generator=g)
    legacy = {"seed": 4, "bit_generator": g.numpy().bit_generator.state}
    cr.save({"rng": g.get_state()}, tmp_path / "state.safetensors")
    expected = cr.rand(5, generator=g).numpy()
    for state in (cr.load(tmp_path / "state.safetensors")["rng"], legacy):
        h = cr.Generator().set_state(state)
        assert h.initial_seed() == 4
        np.testing.assert_array_equal(cr.rand(5, generator=h).numpy(), expected)


def test_wrong_rng_states_are_refused_with_what_was_expected():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"set_state: expected the uint8 tensor.*dtype float32"):
        cr.set_rng_state(cr.zeros(3))
    with pytest.raises(ValueError, match=r"not a chainrule generator state: 3 bytes"):
        cr.set_rng_state(cr.zeros(3, dtype=cr.uint8))
    with pytest.raises(ValueError, match="saved by PyTorch"):
        cr.set_rng_state(cr.tensor(torch.get_rng_state().numpy()))
    corrupt = cr.get_rng_state().clone()
    corrupt[0] = 0
    with pytest.raises(ValueError, match="tag"):
        cr.Generator().set_state(corrupt)
