"""cr.data: loaders, readers (IDX, digits, CSV), splitting, standardization."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    DataError,
    DataLoader,
    Dataset,
    Standardizer,
    TensorDataset,
    load_csv,
    load_mnist,
    read_idx,
    train_val_split,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# ---------------------------------------------------------------------------
# DataLoader
# ---------------------------------------------------------------------------
def _xy(n=10):
    return np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n, dtype=np.int64)


def test_batches_in_order_and_last_partial():
    x, y = _xy(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(isinstance(t, cr.Tensor) for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)


def test_drop_last_and_len():
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(loader) == 2 and len(list(loader)) == 2
    assert len(DataLoader(TensorDataset(x, y), batch_size=4)) == 3


@pytest.mark.parametrize("batch_size", [1, 3, 10, 50])
def test_every_batch_size_covers_dataset_once(batch_size):
    x, y = _xy(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, seed=3)
    seen = np.concatenate([yb.numpy() for _, yb in loader])
    assert sorted(seen.tolist()) == list(range(10))


def test_shuffle_seeded_reproducible_and_changes_per_epoch():
    x, y = _xy(20)

    def orders(seed, epochs=3):
        loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=seed)
        return [np.concatenate([yb.numpy() for _, yb in loader]).tolist() for _ in range(epochs)]

    a, b = orders(7), orders(7)
    assert a == b
    assert a[0] != a[1]  # a new order every epoch
    assert orders(8) != a
    # rows stay aligned across tensors
    loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=1)
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])


def test_shuffle_resumes_from_state_dict():
    x, y = _xy(20)
    ref = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=11)
    full = [np.concatenate([yb.numpy() for _, yb in ref]) for _ in range(4)]
    first = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=11)
    for _ in range(2):
        list(first)
    state = first.state_dict()
    assert state == {"seed": 11, "epoch": 2}
    resumed = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    rest = [np.concatenate([yb.numpy() for _, yb in resumed]) for _ in range(2)]
    np.testing.assert_array_equal(rest[0], full[2])
    np.testing.assert_array_equal(rest[1], full[3])


def test_seed_none_follows_manual_seed():
    x, y = _xy(20)
    cr.manual_seed(5)
    a = DataLoader(TensorDataset(x, y), shuffle=True).seed
    cr.manual_seed(5)
    assert DataLoader(TensorDataset(x, y), shuffle=True).seed == a


def test_tensor_dataset_batches_by_one_index_not_per_sample():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, i):
            Counting.calls += 1
            return super().__getitem__(i)

    x, y = _xy(12)
    list(DataLoader(Counting(x, y), batch_size=4, shuffle=True, seed=0))
    assert Counting.calls == 0  # get_batch did all the work


def test_generic_dataset_is_collated():
    class Pairs(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(3, i, dtype=np.float32), i

    batches = list(DataLoader(Pairs(), batch_size=2))
    assert batches[0][0].shape == (2, 3) and batches[-1][1].tolist() == [4]


def test_tensor_dataset_accepts_tensors_and_checks_lengths():
    ds = TensorDataset(cr.ones(4, 2), cr.zeros(4))
    assert len(ds) == 4 and ds[0][0].shape == (2,)
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


# ---------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------
def _write_idx(path, array, magic_type=0x08, gz=True, cut=0):
    array = np.asarray(array, dtype=np.uint8)
    raw = bytes([0, 0, magic_type, array.ndim]) + b"".join(
        struct.pack(">I", d) for d in array.shape) + array.tobytes()
    if cut:
        raw = raw[:-cut]
    opener = gzip.open if gz else open
    with opener(path, "wb") as f:
        f.write(raw)
    return path


def _fake_mnist(folder, n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(folder / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(folder / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    return folder


def test_synthetic_mnist_round_trip(tmp_path):
    _fake_mnist(tmp_path)
    (x, y), (xt, yt) = load_mnist(tmp_path)
    assert x.shape == (6, 784) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert y.dtype == np.int64 and xt.shape == (4, 784) and yt.shape == (4,)
    (xr, _), _ = load_mnist(tmp_path, flatten=False, normalize=False)
    assert xr.shape == (6, 28, 28) and xr.dtype == np.uint8
    np.testing.assert_allclose(x, xr.reshape(6, -1) / 255.0, rtol=1e-6)


def test_idx_truncated_names_file(tmp_path):
    _fake_mnist(tmp_path)
    bad = _write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((6, 28, 28)), cut=100)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*truncated"):
        load_mnist(tmp_path)
    assert bad.exists()


def test_idx_cut_gzip_stream(tmp_path):
    path = _write_idx(tmp_path / "x-idx1-ubyte.gz", np.arange(5000) % 256)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="x-idx1-ubyte.gz.*(truncated|decompress)"):
        read_idx(path)


def test_idx_foreign_file(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz.*gzip"):
        read_idx(path)
    with gzip.open(path, "wb") as f:
        f.write(b"PK\x03\x04 a zip file, not idx")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz.*not an IDX"):
        read_idx(path)


def test_idx_wrong_magic_swapped_files(tmp_path):
    _fake_mnist(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte.gz"
    images = tmp_path / "train-images-idx3-ubyte.gz"
    labels.write_bytes(images.read_bytes())
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: magic number 2051, "
                                        "expected 2049"):
        load_mnist(tmp_path)


def test_idx_count_mismatch(tmp_path):
    _fake_mnist(tmp_path)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3))
    with pytest.raises(DataError, match="3 labels for 4 images"):
        load_mnist(tmp_path)


def test_idx_trailing_bytes_and_missing(tmp_path):
    path = tmp_path / "a-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3]))
    with pytest.raises(DataError, match="trailing"):
        read_idx(path)
    with pytest.raises(DataError, match="no such directory"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: no such file"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_real_files(name):
    folder = DATA / name
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (the shared MNIST-format files)")
    (x, y), (xt, yt) = load_mnist(folder)
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert set(np.unique(y).tolist()) == set(range(10)) and yt.shape == (10000,)
    if name == "mnist":
        assert y[:5].tolist() == [5, 0, 4, 1, 9]


# ---------------------------------------------------------------------------
# digits, CSV, split, standardization
# ---------------------------------------------------------------------------
def test_load_digits():
    pytest.importorskip("sklearn")
    (x, _y), (xt, yt) = cr.data.load_digits()
    assert x.shape[1] == 64 and len(x) + len(xt) == 1797 and 0 <= x.min() and x.max() <= 1
    assert len(xt) == pytest.approx(0.2 * 1797, abs=10)
    assert set(np.unique(yt).tolist()) == set(range(10))  # stratified: every class tested
    (x2, _), _ = cr.data.load_digits()
    np.testing.assert_array_equal(x, x2)


def test_csv_by_name_index_and_text_labels(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("sepal,petal,species\n1.5,2,setosa\n3,4.25,virginica\n5,6,setosa\n")
    data = load_csv(path, label="species")
    x, y = data
    assert x.dtype == np.float32 and x.tolist() == [[1.5, 2.0], [3.0, 4.25], [5.0, 6.0]]
    assert y.tolist() == [0, 1, 0] and data.classes == ["setosa", "virginica"]
    assert data.feature_names == ["sepal", "petal"] and data.label_name == "species"
    x0, y0 = load_csv(path, label=0, features=["petal"])
    assert y0.dtype == np.float32 and x0.tolist() == [[2.0], [4.25], [6.0]]
    xf, yf = load_csv(path, label=None, features=[0, 1])
    assert yf is None and xf.shape == (3, 2)


def test_csv_without_header_int_labels(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,2,0\n3,4,1\n")
    x, y = load_csv(path)  # default label: the last column
    assert y.dtype == np.int64 and y.tolist() == [0, 1] and x.shape == (2, 2)


def test_csv_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,label\n1,2,0\n3,x,1\n")
    with pytest.raises(DataError, match="bad.csv.*numeric"):
        load_csv(path, label="label")
    with pytest.raises(DataError, match="no column named 'nope'"):
        load_csv(path, label="nope")
    path.write_text("a,b,label\n1,2,0\n3,4\n")
    with pytest.raises(DataError, match="line 3 has 2 columns"):
        load_csv(path)
    with pytest.raises(DataError, match="no such file"):
        load_csv(tmp_path / "missing.csv")


def test_train_val_split_seeded_and_stratified():
    x = np.arange(100).reshape(50, 2)
    y = np.repeat(np.arange(5), 10)
    (a, _ay), (b, _by) = train_val_split(x, y, 0.2, seed=4)
    (a2, _), (b2, _) = train_val_split(x, y, 0.2, seed=4)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert len(b) == 10 and len(a) == 40
    np.testing.assert_array_equal(x[a[:, 0] // 2], a)  # rows kept intact
    _, (_, sy) = train_val_split(x, y, 0.2, seed=4, stratify=True)
    assert np.bincount(sy).tolist() == [2] * 5
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(x, y, 1.5)


def test_standardizer_fits_on_train_only():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, size=(500, 4)).astype(np.float32)
    train[:, 3] = 7.0  # constant column: centered, not divided by zero
    s = Standardizer().fit(train)
    z = s.transform(train)
    np.testing.assert_allclose(z[:, :3].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :3].std(0), 1, atol=1e-4)
    assert np.all(z[:, 3] == 0)
    test = rng.normal(3.0, 2.0, size=(10, 4)).astype(np.float32)
    np.testing.assert_allclose(s.transform(test), (test - s.mean) / s.std)
    restored = Standardizer().load_state_dict(s.state_dict())
    np.testing.assert_array_equal(restored.transform(test), s.transform(test))
    g = Standardizer(per_feature=False).fit(train)
    assert np.ndim(g.mean) == 0
    with pytest.raises(ValueError, match="fitted on 4 features"):
        s.transform(np.zeros((2, 3)))


# ---------------------------------------------------------------------------
# small files that would cost large resources, and bad data sets
# ---------------------------------------------------------------------------
def _idx_header(dims, type_code=0x08) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def _peak_bytes(fn) -> tuple[int, str]:
    """Peak traced memory (NumPy reports its allocations to tracemalloc) while ``fn`` raises
    DataError, and the message."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            fn()
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


def test_gzip_idx_declaring_more_than_it_can_hold_is_refused_before_decompressing(tmp_path):
    # 4.1 million 28x28 images declared by a file of a few hundred bytes
    path = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(_idx_header((4_100_000, 28, 28)) + bytes(1000))
    peak, message = _peak_bytes(lambda: read_idx(path, expect_magic=2051))
    assert "more than a" in message and "(4100000, 28, 28)" in message
    assert peak < 1 << 20


def test_image_count_checked_against_labels_before_images_are_read(tmp_path):
    _fake_mnist(tmp_path)
    # a consistent-looking images file of 20000 blank images (15.7 MB), labels for 4
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(_idx_header((20000, 28, 28)) + bytes(20000 * 784))
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4))
    peak, message = _peak_bytes(lambda: load_mnist(tmp_path))
    assert "4 labels for 20000 images" in message
    assert peak < 1 << 20  # the 15.7 MB payload was never decompressed


def test_truncated_gzip_payload_costs_only_what_it_holds(tmp_path):
    path = tmp_path / "x-idx3-ubyte.gz"
    rng = np.random.default_rng(0)
    with gzip.open(path, "wb") as f:  # incompressible: passes the ratio check
        f.write(_idx_header((1000, 28, 28)) + rng.integers(0, 256, 500 * 784, np.uint8).tobytes())
    peak, message = _peak_bytes(lambda: read_idx(path))
    assert "truncated" in message and "found 392000" in message
    assert peak < 3 * 784_000


@pytest.mark.parametrize("dims", [(65536, 65536, 65536, 65536), (2**32 - 1,) * 3])
def test_dimension_products_do_not_overflow(tmp_path, dims):
    for name in ("a-idx-ubyte", "a-idx-ubyte.gz"):
        path = tmp_path / name
        blob = _idx_header(dims)
        if name.endswith(".gz"):
            blob = gzip.compress(blob)
        path.write_bytes(blob)
        with pytest.raises(DataError, match=r"(truncated|more than a).*dimensions|dimensions"):
            read_idx(path)


def test_big_endian_payload_types_still_read(tmp_path):
    path = tmp_path / "f-idx1-ubyte"
    values = np.array([1.5, -2.0, 3.25], dtype=">f4")
    path.write_bytes(_idx_header((3,), type_code=0x0D) + values.tobytes())
    out = read_idx(path)
    assert out.dtype == np.float32 and out.tolist() == [1.5, -2.0, 3.25]
    assert out.flags.writeable


def test_mnist_folder_with_small_images_is_refused(tmp_path):
    _fake_mnist(tmp_path)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((6, 7, 7)))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: images are 7x7 pixels, "
                                        r"expected 28x28"):
        load_mnist(tmp_path)
    (x, _), _ = load_mnist(tmp_path, image_shape=None)  # other MNIST-format data sets
    assert x.shape == (6, 49)


def test_mnist_labels_out_of_range_and_zero_images(tmp_path):
    _fake_mnist(tmp_path)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", [1, 2, 12, 3])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz: label 12 at index 2 is "
                                        r"outside 0..9"):
        load_mnist(tmp_path)
    assert load_mnist(tmp_path, num_classes=None)[1][1].tolist() == [1, 2, 12, 3]
    _fake_mnist(tmp_path, n_train=0)
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: the file holds no images"):
        load_mnist(tmp_path)


def test_csv_with_only_a_label_column(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("label\n0\n1\n0\n1\n")
    with pytest.raises(DataError, match="labels.csv: no feature columns: the file has only the "
                                        "label column 'label'"):
        load_csv(path)


@pytest.mark.parametrize("cell", ["nan", "inf", "-Infinity", "NaN", "1e39"])
def test_csv_non_finite_cells_are_refused_naming_row_and_column(tmp_path, cell):
    path = tmp_path / "d.csv"
    path.write_text(f"a,b,label\n1,2,0\n\n3,{cell},1\n")  # a blank line: line numbers stay real
    with pytest.raises(DataError, match=rf"d.csv: line 4, column 'b': '{cell}' is not a finite"):
        load_csv(path)
    path.write_text(f"a,b,label\n1,2,0\n3,4,{cell}\n")
    with pytest.raises(DataError, match=rf"line 3, column 'label': '{cell}' is not a finite|"
                                        rf"line 3, column 'label': '{cell}' is beyond float32"):
        load_csv(path)


def test_csv_bad_cell_is_named(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,2,0\n3,four,1\n")
    with pytest.raises(DataError, match=r"line 3, column 'b': 'four' is not a number"):
        load_csv(path)


def test_too_few_rows_to_split(tmp_path):
    x, y = np.zeros((2, 3)), np.array([0, 1])
    with pytest.raises(DataError, match="2 rows with val_fraction=0.2 leave 2 rows to train on "
                                        "and 0 to hold out"):
        train_val_split(x, y, 0.2)
    with pytest.raises(DataError, match="each part needs at least one row"):
        train_val_split(np.zeros((3, 1)), np.array([0, 1, 2]), 0.5, stratify=True)
    (_, _), (xv, _) = train_val_split(x, y, 0.0)
    assert len(xv) == 0  # asked for no held-out part


# the command line turns these into one line on stderr and exit status 2
def _train_cli(capsys, *args):
    from chainrule.cli import main

    status = main(["train", "--epochs", "1", "--no-progress", *map(str, args)])
    err = capsys.readouterr().err.strip()
    return status, err


@pytest.mark.parametrize("content, fragment", [
    ("label\n0\n1\n0\n1\n0\n1\n", "no feature columns"),
    ("a,label\n1,0\n2,1\n", "0 for testing"),
    ("a,label\n1,0\nnan,1\n3,0\n4,1\n5,0\n6,1\n", "line 3, column 'a': 'nan'"),
    ("a,label\n" + "".join(f"{i},{i % 2}\n" for i in range(20)) + "1,1000000000\n",
     "1000000000"),
])
def test_train_cli_answers_bad_csv_with_one_line(tmp_path, capsys, content, fragment):
    path = tmp_path / "data.csv"
    path.write_text(content)
    status, err = _train_cli(capsys, "--dataset", "csv", "--data-dir", path,
                             "--out", tmp_path / "run")
    assert status == 2 and len(err.splitlines()) == 1 and fragment in err, err


def test_train_cli_answers_bad_mnist_folder_with_one_line(tmp_path, capsys):
    _fake_mnist(tmp_path)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((6, 7, 7)))
    status, err = _train_cli(capsys, "--dataset", "mnist", "--data-dir", tmp_path,
                             "--out", tmp_path / "run")
    assert status == 2 and len(err.splitlines()) == 1 and "7x7 pixels" in err, err
