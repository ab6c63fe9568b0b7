"""utils.data.load_cifar10, offline: a tiny sample in CIFAR-10's python-pickle format (as
torchvision's CIFAR10 writes it, in cifar-10-batches-py/) loads as flattened tensors; a missing
dataset gives a one-line DatasetMissingError, without a network and without waiting for one."""

import pickle

import numpy as np
import pytest
import torch

from utils import data
from utils.data import CIFAR10_FOLDER, DatasetMissingError, cifar10_root, load_cifar10
from utils.data import cifar  # defines _online, which load_cifar10 looks up there


def _write_sample(root, per_batch=4, seed=0):
    """Five training batches and a test batch of `per_batch` random images each."""
    rng = np.random.default_rng(seed)
    folder = cifar10_root(root) / CIFAR10_FOLDER
    folder.mkdir(parents=True)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=per_batch).tolist()
        # Byte-string keys, as in the real (Python 2) files.
        batch = {b"batch_label": name.encode(), b"data": images, b"labels": labels,
                 b"filenames": [f"{name}_{i}.png".encode() for i in range(per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        written[name] = (images, labels)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [n.encode() for n in data.CIFAR10_CLASSES]}, f, protocol=2)
    return written


def test_a_cifar_format_sample_loads_as_flat_float_tensors(tmp_path):
    written = _write_sample(tmp_path)
    X, y = load_cifar10("train", root=tmp_path)
    assert X.shape == (20, 3072) and X.dtype == torch.float32
    assert y.shape == (20,) and y.dtype == torch.int64
    images = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    labels = sum((written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    assert torch.equal(X, torch.from_numpy(images.astype(np.float32) / 255))
    assert y.tolist() == labels
    X_test, y_test = load_cifar10("test", root=tmp_path, download=True)   # present: no network needed
    assert X_test.shape == (4, 3072) and y_test.tolist() == written["test_batch"][1]
    assert 0.0 <= float(X.min()) and float(X.max()) <= 1.0


def test_rows_are_channel_planes_like_to_tensor(tmp_path):
    _write_sample(tmp_path)
    X, _ = load_cifar10("test", root=tmp_path)
    image = X[0].reshape(3, 32, 32)                          # (C, H, W), as ToTensor gives
    with open(cifar10_root(tmp_path) / CIFAR10_FOLDER / "test_batch", "rb") as f:
        raw = pickle.load(f, encoding="latin1")[b"data"][0]
    assert torch.equal(image[1, 0, :], torch.from_numpy(raw[1024:1056].astype(np.float32) / 255))


def test_missing_without_download_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetMissingError, match="download=True"):
        load_cifar10(root=tmp_path)


def test_missing_and_offline_is_one_line_and_never_downloads(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "_online", lambda host, timeout: False)
    import torchvision.datasets

    def no_download(*args, **kwargs):
        raise AssertionError("must not try to download offline")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", no_download)
    with pytest.raises(DatasetMissingError) as error:
        load_cifar10("train", root=tmp_path, download=True)
    assert "offline" in str(error.value) and "\n" not in str(error.value)


def test_online_download_goes_through_torchvision(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "_online", lambda host, timeout: True)
    calls = []
    import torchvision.datasets

    def fake_cifar10(root, train, download):
        calls.append((root, train, download))
        _write_sample(tmp_path)                               # what the real one unpacks

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", fake_cifar10)
    X, y = load_cifar10("test", root=tmp_path, download=True)
    assert calls == [(str(cifar10_root(tmp_path)), False, True)] and X.shape == (4, 3072)


def test_the_offline_probe_gives_up_quickly_on_an_unreachable_host():
    assert cifar._online(("192.0.2.1", 9), timeout=0.2) is False    # TEST-NET-1: never routed


def test_the_notebooks_cifar_section_runs_on_a_tiny_sample(tmp_path, monkeypatch, capsys):
    """The solution notebook's CIFAR-10 cell, with the course's data folder pointed at a tiny
    sample: it loads, trains the notebook's MLP with its fit, and reports an accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat

    from grader.proving.variants import grade_id

    _write_sample(tmp_path, per_batch=8)
    monkeypatch.setenv("MLP_COURSE_DATA", str(tmp_path))
    monkeypatch.setenv("MLP_COURSE_DEVICE", "cpu")
    nb = nbformat.read(data._default_root().parent / "solutions" / "04_torch_nn" / "torch_nn.ipynb",
                       as_version=4)
    needed = ["imports", "MLP", "train_epoch", "evaluate", "fit", "cifar"]
    cells = {grade_id(c): c.source for c in nb.cells if c.cell_type == "code"}
    namespace = {"__name__": "__main__"}
    try:
        for gid in needed:
            exec(compile(cells[gid], f"<cell {gid}>", "exec"), namespace)
    finally:
        plt.close("all")
    out = capsys.readouterr().out
    assert "CIFAR-10 test accuracy after 5 epochs" in out and "skipped" not in out
    assert len(namespace["cifar_history"]["val_acc"]) == 5
    assert namespace["X_cifar"].shape == (40, 3072)
