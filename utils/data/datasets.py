"""torchvision-style datasets read from the course's files (for the notebooks that teach
``DataLoader``): drop-ins for ``torchvision.datasets.MNIST`` and ``FashionMNIST``."""

from __future__ import annotations

import functools

import numpy as np

from utils.data.files import _check_name, data_root
from utils.data.idx import _load_raw
from utils.data.loaders import _CLASSES


@functools.cache
def _vision_dataset_class():
    """Define the VisionDataset subclass on first use (imports torch and torchvision)."""
    import torch
    from PIL import Image
    from torchvision.datasets import VisionDataset

    class IdxImageDataset(VisionDataset):
        """MNIST or Fashion-MNIST read from the course's files, with torchvision's MNIST semantics.

        ``dataset[i]`` is ``(PIL.Image of mode "L", int label)``, passed through ``transform``
        and ``target_transform``. Attributes: ``data`` uint8 tensor (n, 28, 28), ``targets``
        int64 tensor (n,), ``classes`` list of 10 names, ``class_to_idx``, ``train``.
        """

        def __init__(self, name, train=True, transform=None, target_transform=None, root=None):
            root_path = data_root(root)
            super().__init__(str(root_path), transform=transform, target_transform=target_transform)
            self.name, self.train = _check_name(name), bool(train)
            images, labels = _load_raw(name, "train" if train else "test", root_path)
            # Copies: the cached arrays are read-only and shared with load_dataset().
            self.data = torch.from_numpy(images.copy())
            self.targets = torch.from_numpy(labels.astype(np.int64))
            self.classes = list(_CLASSES[name])

        @property
        def class_to_idx(self):
            return {label: index for index, label in enumerate(self.classes)}

        def __getitem__(self, index):
            image = Image.fromarray(self.data[index].numpy())  # 2-D uint8 gives mode "L"
            target = int(self.targets[index])
            if self.transform is not None:
                image = self.transform(image)
            if self.target_transform is not None:
                target = self.target_transform(target)
            return image, target

        def __len__(self):
            return len(self.data)

        def extra_repr(self):
            return f"Dataset: {self.name}\nSplit: {'Train' if self.train else 'Test'}"

    return IdxImageDataset


def mnist_dataset(train=True, transform=None, target_transform=None, root=None):
    """MNIST as a ``torchvision.datasets.VisionDataset`` (drop-in for ``torchvision.datasets.MNIST``).

    Items are ``(PIL.Image mode "L" 28x28, int)`` before transforms; with ``ToTensor()`` the
    image becomes a float32 tensor (1, 28, 28) in [0, 1]. ``.data`` uint8 (n, 28, 28),
    ``.targets`` int64 (n,), ``.classes`` = ``MNIST_CLASSES``.
    """
    return _vision_dataset_class()("mnist", train, transform, target_transform, root)


def fashion_mnist_dataset(train=True, transform=None, target_transform=None, root=None):
    """Fashion-MNIST as a ``torchvision.datasets.VisionDataset`` (like ``torchvision.datasets.FashionMNIST``).

    Items are ``(PIL.Image mode "L" 28x28, int)`` before transforms; ``.data`` uint8 (n, 28, 28),
    ``.targets`` int64 (n,), ``.classes`` = ``FASHION_MNIST_CLASSES``.
    """
    return _vision_dataset_class()("fashion-mnist", train, transform, target_transform, root)
