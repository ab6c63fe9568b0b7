"""Tests of utils.data: the real files, errors that say how to fix them, batching, the
torchvision-style Dataset, and the download path (offline, with a fake torchvision class)."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import data
from utils.data import (
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    ArrayLoader,
    DatasetCorruptError,
    DatasetError,
    DatasetMissingError,
    batches,
    fashion_mnist_dataset,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    mnist_dataset,
)

REPO_DATA = Path(data.__file__).resolve().parents[2] / "data"   # utils/data/__init__.py

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

FIX_HINTS = ("git checkout -- data/", "python -m utils.data download mnist")


@pytest.fixture(autouse=True)
def _default_data_root(monkeypatch):
    # Tests that rely on the repository's data must not be redirected by the caller's shell.
    monkeypatch.delenv("MLP_COURSE_DATA", raising=False)


@pytest.fixture
def mnist_test_copy(tmp_path):
    """A data root in tmp_path holding only MNIST's two (small) test files."""
    (tmp_path / "mnist").mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copyfile(REPO_DATA / "mnist" / name, tmp_path / "mnist" / name)
    return tmp_path


# --------------------------------------------------------------------------------------
# The real files
# --------------------------------------------------------------------------------------
def test_checksum_table_names_every_file():
    expected = {f"{name}/{path.name.removesuffix('.gz')}"
                for name in data.DATASETS for split in data.SPLITS
                for path in data.dataset_files(name, split)}
    assert set(data.SHA256) == expected
    assert all(len(digest) == 64 for digest in data.SHA256.values())


@pytest.mark.parametrize("split, counts", [("train", MNIST_TRAIN_COUNTS), ("test", MNIST_TEST_COUNTS)])
def test_mnist_has_the_published_label_counts(split, counts):
    X, y = load_mnist(split)
    assert X.shape == (sum(counts), 28, 28) and X.dtype == np.float32
    assert y.shape == (sum(counts),) and y.dtype == np.int64
    assert np.bincount(y, minlength=10).tolist() == counts


@pytest.mark.parametrize("split, per_class", [("train", 6000), ("test", 1000)])
def test_fashion_mnist_has_balanced_classes(split, per_class):
    X, y = load_fashion_mnist(split)
    assert X.shape == (10 * per_class, 28, 28) and X.dtype == np.float32
    assert y.dtype == np.int64
    assert np.bincount(y, minlength=10).tolist() == [per_class] * 10


def test_fashion_mnist_first_train_labels():
    _, y = load_fashion_mnist("train")
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]


def test_pixels_are_scaled_to_unit_interval_like_to_tensor():
    X, _ = load_mnist("test")
    assert X.min() == 0.0 and X.max() == 1.0
    raw, _ = data._load_raw("mnist", "test")
    # Division by 255 in float32, exactly what torchvision's ToTensor does.
    np.testing.assert_array_equal(X, raw.astype(np.float32) / np.float32(255))


def test_flatten_gives_rows_of_784_pixels():
    X, _ = load_mnist("test")
    X_flat, y = load_mnist("test", flatten=True)
    assert X_flat.shape == (10000, 784)
    np.testing.assert_array_equal(X_flat, X.reshape(10000, 784))


def test_class_names():
    assert MNIST_CLASSES == [str(d) for d in range(10)]
    assert FASHION_MNIST_CLASSES == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def test_as_tensor_and_device():
    X, y = load_mnist("test", as_tensor=True)
    assert isinstance(X, torch.Tensor) and X.dtype == torch.float32 and X.device.type == "cpu"
    assert isinstance(y, torch.Tensor) and y.dtype == torch.int64 and y.shape == (10000,)
    X_cpu, _ = load_fashion_mnist("test", flatten=True, device="cpu")  # a device implies tensors
    assert isinstance(X_cpu, torch.Tensor) and X_cpu.shape == (10000, 784)
    X_meta, y_meta = load_mnist("test", device="meta")
    assert X_meta.device.type == "meta" and y_meta.device.type == "meta"


def test_returned_arrays_are_copies_so_the_cache_is_safe():
    X, y = load_mnist("test")
    X[:] = 7.0
    y[:] = -1
    X_again, y_again = load_mnist("test")
    assert X_again.max() == 1.0 and y_again.min() == 0
    images, labels = data._load_raw("mnist", "test")
    assert not images.flags.writeable and not labels.flags.writeable


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="cifar10", split="train"), "'mnist', 'fashion-mnist'"),
    (dict(name="mnist", split="validation"), "'train', 'test'"),
])
def test_bad_name_or_split_lists_the_valid_ones(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_dataset(**kwargs)


def test_root_argument_and_environment_variable(mnist_test_copy, monkeypatch):
    X, y = load_mnist("test", root=mnist_test_copy)
    assert X.shape == (10000, 28, 28)
    monkeypatch.setenv("MLP_COURSE_DATA", str(mnist_test_copy))
    assert data.data_root() == mnist_test_copy.resolve()
    with pytest.raises(DatasetMissingError, match="train-images"):  # only the test split was copied
        load_mnist("train")


# --------------------------------------------------------------------------------------
# Missing and corrupt files
# --------------------------------------------------------------------------------------
def test_missing_file_names_the_file_and_the_fix(mnist_test_copy):
    missing = mnist_test_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    missing.unlink()
    with pytest.raises(DatasetMissingError) as info:
        load_mnist("test", root=mnist_test_copy)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, DatasetError)
    message = str(info.value)
    assert str(missing.resolve()) in message
    assert all(hint in message for hint in FIX_HINTS)


def test_truncated_file_is_reported_as_corrupt(mnist_test_copy):
    path = mnist_test_copy / "mnist" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(DatasetCorruptError) as info:
        load_mnist("test", root=mnist_test_copy)
    assert isinstance(info.value, ValueError)
    assert str(path.resolve()) in str(info.value)
    assert all(hint in str(info.value) for hint in FIX_HINTS)


def test_altered_payload_fails_the_checksum_even_after_a_cached_load(mnist_test_copy):
    load_mnist("test", root=mnist_test_copy)  # fills the cache with the good file
    path = mnist_test_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    payload = bytearray(gzip.decompress(path.read_bytes()))
    payload[-1] = (payload[-1] + 1) % 10  # one label changed: still a valid IDX file
    path.write_bytes(gzip.compress(bytes(payload), mtime=0))
    with pytest.raises(DatasetCorruptError, match="SHA-256") as info:
        load_mnist("test", root=mnist_test_copy)
    assert str(path.resolve()) in str(info.value)


def test_recompressed_file_with_the_same_payload_is_accepted(mnist_test_copy):
    # Mirrors differ in their gzip containers; only the payload is checked.
    path = mnist_test_copy / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=123))
    _, y = load_mnist("test", root=mnist_test_copy)
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS


def test_check_command_prints_a_table_and_fails_on_missing_files(mnist_test_copy, capsys):
    assert data._main(["check", "--root", str(mnist_test_copy)]) == 1
    out = capsys.readouterr().out
    assert "mnist/t10k-images-idx3-ubyte.gz" in out and "ok" in out
    assert "mnist/train-images-idx3-ubyte.gz" in out and "missing" in out


# --------------------------------------------------------------------------------------
# Download, offline: torchvision's class is replaced by a fake that "downloads" local files
# --------------------------------------------------------------------------------------
def _fake_torchvision_class(class_name, source_dir, corrupt=None):
    class FakeDataset:
        calls = []

        def __init__(self, root, train=True, download=False, **kwargs):
            assert download, "utils.data.download must ask torchvision to download"
            raw = Path(root) / class_name / "raw"  # torchvision's layout
            raw.mkdir(parents=True)
            for source in Path(source_dir).glob("*.gz"):
                shutil.copyfile(source, raw / source.name)
            if corrupt:
                (raw / corrupt).write_bytes(gzip.compress(b"not an idx file"))
            FakeDataset.calls.append(root)

    FakeDataset.__name__ = class_name
    return FakeDataset


def test_download_installs_verified_files(tmp_path, monkeypatch, capsys):
    import torchvision.datasets

    fake = _fake_torchvision_class("MNIST", REPO_DATA / "mnist")
    monkeypatch.setattr(torchvision.datasets, "MNIST", fake)
    installed = data.download("mnist", root=tmp_path)
    assert len(fake.calls) == 1
    assert sorted(p.name for p in installed) == sorted(p.name for p in (REPO_DATA / "mnist").glob("*.gz"))
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(p.name for p in installed)
    assert "ok" in capsys.readouterr().out
    _, y = load_mnist("test", root=tmp_path)
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS


def test_download_command_line(tmp_path, monkeypatch):
    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "MNIST", _fake_torchvision_class("MNIST", REPO_DATA / "mnist"))
    assert data._main(["download", "mnist", "--root", str(tmp_path)]) == 0
    assert all(status == "ok" for _, status in data.check_files(["mnist"], root=tmp_path))


def test_download_refuses_a_bad_file_and_keeps_the_old_one(mnist_test_copy, monkeypatch):
    import torchvision.datasets

    bad = "t10k-images-idx3-ubyte.gz"
    before = (mnist_test_copy / "mnist" / bad).read_bytes()
    monkeypatch.setattr(torchvision.datasets, "MNIST",
                        _fake_torchvision_class("MNIST", REPO_DATA / "mnist", corrupt=bad))
    with pytest.raises(DatasetCorruptError):
        data.download("mnist", root=mnist_test_copy, verbose=False)
    assert (mnist_test_copy / "mnist" / bad).read_bytes() == before
    assert not list((mnist_test_copy / "mnist").glob("*.part"))


# --------------------------------------------------------------------------------------
# ArrayLoader and batches
# --------------------------------------------------------------------------------------
def _make_xy(kind, n=103):
    # Row i of X is (i, i, i), so that we can check X and y stay aligned.
    X = np.repeat(np.arange(n, dtype=np.float32)[:, None], 3, axis=1)
    y = np.arange(n, dtype=np.int64)
    return (torch.from_numpy(X), torch.from_numpy(y)) if kind == "tensor" else (X, y)


def _epoch_order(loader):
    return np.concatenate([np.asarray(y_batch) for _, y_batch in loader]).tolist()


@pytest.mark.parametrize("kind", ["array", "tensor"])
def test_loader_covers_every_sample_once_with_a_smaller_last_batch(kind):
    X, y = _make_xy(kind)
    loader = ArrayLoader(X, y, batch_size=10, seed=0)
    assert len(loader) == 11
    sizes = []
    for X_batch, y_batch in loader:
        assert type(X_batch) is type(X) and X_batch.dtype == X.dtype
        assert (np.asarray(X_batch)[:, 0] == np.asarray(y_batch)).all()  # still aligned
        sizes.append(len(y_batch))
    assert sizes == [10] * 10 + [3]
    assert sorted(_epoch_order(loader)) == list(range(103))


@pytest.mark.parametrize("kind", ["array", "tensor"])
def test_loader_reshuffles_each_epoch_and_repeats_with_the_same_seed(kind):
    X, y = _make_xy(kind)
    first, second = ArrayLoader(X, y, 16, seed=1), ArrayLoader(X, y, 16, seed=1)
    epochs_first = [_epoch_order(first) for _ in range(3)]
    epochs_second = [_epoch_order(second) for _ in range(3)]
    assert epochs_first == epochs_second
    assert epochs_first[0] != epochs_first[1] != epochs_first[2]
    assert epochs_first[0] != _epoch_order(ArrayLoader(X, y, 16, seed=2))
    assert epochs_first[0] != list(range(103))


@pytest.mark.parametrize("kind", ["array", "tensor"])
def test_loader_without_seed_follows_the_global_seed(kind):
    X, y = _make_xy(kind)
    np.random.seed(5), torch.manual_seed(5)
    a = _epoch_order(ArrayLoader(X, y, 16))
    np.random.seed(5), torch.manual_seed(5)
    assert _epoch_order(ArrayLoader(X, y, 16)) == a


@pytest.mark.parametrize("kind", ["array", "tensor"])
def test_loader_without_shuffle_keeps_the_order(kind):
    X, y = _make_xy(kind)
    assert _epoch_order(ArrayLoader(X, y, 25, shuffle=False)) == list(range(103))


def test_loader_keeps_tensors_on_their_device():
    X, y = torch.empty(50, 784, device="meta"), torch.empty(50, dtype=torch.int64, device="meta")
    batches_ = list(ArrayLoader(X, y, 20, seed=0))
    assert [b[0].shape for b in batches_] == [(20, 784), (20, 784), (10, 784)]
    assert all(b[0].device.type == "meta" and b[1].device.type == "meta" for b in batches_)


def test_batches_is_one_epoch_and_advances_a_generator():
    X, y = _make_xy("array")
    rng = np.random.default_rng(0)
    first = np.concatenate([yb for _, yb in batches(X, y, 32, rng=rng)]).tolist()
    second = np.concatenate([yb for _, yb in batches(X, y, 32, rng=rng)]).tolist()
    assert sorted(first) == sorted(second) == list(range(103)) and first != second
    assert first == _epoch_order(ArrayLoader(X, y, 32, seed=np.random.default_rng(0)))


def test_loader_rejects_bad_arguments():
    X, y = _make_xy("array")
    with pytest.raises(ValueError, match="different lengths"):
        ArrayLoader(X, y[:-1], 8)
    with pytest.raises(ValueError, match="batch_size"):
        ArrayLoader(X, y, 0)
    with pytest.raises(TypeError, match="both"):
        ArrayLoader(torch.from_numpy(X), y, 8)


def test_loader_on_real_data_is_fast_enough():
    X, y = load_fashion_mnist("train", flatten=True, as_tensor=True)
    loader = ArrayLoader(X, y, 256, seed=0)
    assert len(loader) == 235
    n = sum(len(y_batch) for _, y_batch in loader)
    assert n == 60000


# --------------------------------------------------------------------------------------
# torchvision-style Dataset
# --------------------------------------------------------------------------------------
def test_dataset_behaves_like_torchvision_mnist():
    from PIL import Image
    from torchvision.datasets import VisionDataset

    ds = fashion_mnist_dataset(train=False)
    assert isinstance(ds, VisionDataset) and len(ds) == 10000
    assert ds.data.dtype == torch.uint8 and ds.data.shape == (10000, 28, 28)
    assert ds.targets.dtype == torch.int64 and ds.targets.shape == (10000,)
    assert ds.classes == FASHION_MNIST_CLASSES and ds.class_to_idx["Ankle boot"] == 9
    image, target = ds[0]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert isinstance(target, int) and target == int(ds.targets[0])
    assert mnist_dataset(train=True).classes == MNIST_CLASSES


def test_dataset_with_to_tensor_matches_the_array_loader():
    from torch.utils.data import DataLoader
    from torchvision.transforms import ToTensor

    ds = fashion_mnist_dataset(train=False, transform=ToTensor(), target_transform=lambda t: t + 100)
    image, target = ds[3]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    X, y = load_fashion_mnist("test")
    torch.testing.assert_close(image[0], torch.from_numpy(X[3]), rtol=0, atol=0)
    assert target == y[3] + 100
    X_batch, y_batch = next(iter(DataLoader(ds, batch_size=64)))
    assert X_batch.shape == (64, 1, 28, 28) and y_batch.tolist() == (y[:64] + 100).tolist()


def test_dataset_items_equal_torchvision_fashion_mnist(tmp_path):
    # torchvision reads the uncompressed files from <root>/FashionMNIST/raw/.
    from torchvision.datasets import FashionMNIST

    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in (REPO_DATA / "fashion-mnist").glob("t10k-*.gz"):
        (raw / gz.name.removesuffix(".gz")).write_bytes(gzip.decompress(gz.read_bytes()))
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).touch()  # torchvision only checks that they exist; train=False never reads them
    reference, ours = FashionMNIST(str(tmp_path), train=False), fashion_mnist_dataset(train=False)
    assert torch.equal(reference.data, ours.data) and torch.equal(reference.targets, ours.targets)
    assert reference.classes == ours.classes
    for index in (0, 1, 9999):
        (ref_image, ref_target), (image, target) = reference[index], ours[index]
        assert ref_target == target and ref_image.mode == image.mode
        assert ref_image.tobytes() == image.tobytes()


def test_dataset_does_not_share_memory_with_the_cache():
    ds = mnist_dataset(train=False)
    ds.data[:] = 0
    X, _ = load_mnist("test")
    assert X.max() == 1.0


def test_importing_the_module_does_not_import_torch():
    # NumPy-only notebooks should not pay torch's import time for `from utils.data import load_mnist`.
    import subprocess
    import sys

    code = "import sys, utils.data; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_DATA.parent)
