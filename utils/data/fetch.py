"""Downloading a missing dataset (online only): torchvision fetches the four files, each is
verified against its checksum, then it atomically replaces the file in ``<root>/<name>/``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from utils.data.files import (
    SPLITS,
    DatasetMissingError,
    _check_name,
    _checksum_key,
    _read_payload,
    data_root,
    dataset_files,
)
from utils.data.idx import _parse_idx

# torchvision's class for each dataset; it downloads into <tmp>/<class name>/raw/.
_TORCHVISION_CLASS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def download(name: str, root=None, *, verbose: bool = True) -> list[Path]:
    """Download one dataset with torchvision and install its four ``.gz`` files under ``root``.

    torchvision fetches the files into a temporary folder (``<tmp>/MNIST/raw/`` or
    ``<tmp>/FashionMNIST/raw/``); each one is checked against the payload checksum before
    it replaces the file in ``<root>/<name>/``. Needs network access.

    Returns
    -------
    list of Path
        The four installed files.
    """
    _check_name(name)
    import torchvision.datasets

    # Looked up at call time, so that tests can replace it with an offline fake.
    dataset_class = getattr(torchvision.datasets, _TORCHVISION_CLASS[name])
    root_path = data_root(root)
    target_dir = root_path / name
    target_dir.mkdir(parents=True, exist_ok=True)
    installed = []
    with tempfile.TemporaryDirectory(prefix="mlp-course-download-") as tmp:
        dataset_class(root=tmp, train=True, download=True)  # fetches all four files
        raw_dir = Path(tmp) / _TORCHVISION_CLASS[name] / "raw"
        for split in SPLITS:
            for final_path in dataset_files(name, split, root_path):
                fetched = raw_dir / final_path.name
                if not fetched.is_file():
                    raise DatasetMissingError(
                        f"torchvision did not produce {fetched.name} in {raw_dir}; "
                        f"found {sorted(p.name for p in raw_dir.glob('*'))}")
                # Verify under the final name's checksum, before touching the installed file.
                staged = target_dir / (final_path.name + ".part")
                shutil.copyfile(fetched, staged)
                try:
                    _parse_idx(_read_payload(staged, name, root_path, key=_checksum_key(final_path)), staged)
                except BaseException:
                    staged.unlink(missing_ok=True)
                    raise
                os.replace(staged, final_path)  # atomic: a crash never leaves a half-written file
                installed.append(final_path)
                if verbose:
                    print(f"ok  {final_path}")
    return installed
