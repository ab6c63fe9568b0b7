"""Choosing a device and seeding every random number generator.

Typical notebook header::

    from utils.device import get_device, seed_everything, describe_device
    device = get_device()          # cuda > mps > cpu; $MLP_COURSE_DEVICE overrides
    rng = seed_everything(0)       # random, numpy, torch (and CUDA); returns a numpy Generator
    print("running on", describe_device(device))
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["get_device", "available_devices", "seed_everything", "describe_device"]

ENV_VAR = "MLP_COURSE_DEVICE"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[str]:
    """Names of the devices this machine offers, best first: ``cuda:i`` ..., ``mps``, ``cpu``."""
    names = []
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    names.append("cpu")
    return names


def _is_available(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False
        return device.index is None or device.index < torch.cuda.device_count()
    if device.type == "mps":
        return _mps_available() and device.index in (None, 0)
    return False  # other backends (xpu, meta, ...) are not part of the course


def get_device(preferred: str | torch.device | None = None) -> torch.device:
    """The device to compute on.

    Parameters
    ----------
    preferred : str or torch.device, optional
        E.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``. If None, the environment
        variable ``MLP_COURSE_DEVICE`` is used when set; otherwise the best available
        device in the order cuda > mps > cpu.

    Returns
    -------
    torch.device

    Raises
    ------
    RuntimeError
        If the requested device is not available here; the message lists those that are.
    ValueError
        If the requested name is not a device name at all.
    """
    source = "get_device(preferred=...)"
    if preferred is None and os.environ.get(ENV_VAR, "").strip():
        preferred, source = os.environ[ENV_VAR].strip(), f"the environment variable {ENV_VAR}"
    if preferred is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")

    try:
        device = torch.device(preferred)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"{source} asks for {preferred!r}, which is not a device name "
            f"(use e.g. 'cpu', 'cuda', 'cuda:1' or 'mps'): {err}"
        ) from None
    if not _is_available(device):
        raise RuntimeError(
            f"{source} asks for device {str(device)!r}, but it is not available on this machine. "
            f"Available: {', '.join(available_devices())}."
            + (f" Unset {ENV_VAR} or set it to one of these." if source.startswith("the environment") else "")
        )
    return device


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global RNG and torch (CPU, and every CUDA device).

    Parameters
    ----------
    seed : int
        In [0, 2**32 - 1] (NumPy's global seed range).

    Returns
    -------
    numpy.random.Generator
        ``np.random.default_rng(seed)``: a fresh generator, for code that prefers passing one
        around to using global state.

    Notes
    -----
    Does not switch on deterministic algorithms (``torch.use_deterministic_algorithms``): on
    CPU the course's code is repeatable without it, and on GPU it would slow training down.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA (and MPS) device's generator
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)  # explicit, in case CUDA was initialised later
    return np.random.default_rng(seed)


def describe_device(device: str | torch.device | None = None) -> str:
    """A short description for notebook headers, e.g. ``"cpu (2 threads)"`` or
    ``"cuda:0 (NVIDIA H100 80GB HBM3, 79 GiB)"``. ``None`` describes :func:`get_device`'s choice."""
    device = get_device() if device is None else torch.device(device)
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    if device.type == "cuda":
        index = torch.cuda.current_device() if device.index is None else device.index
        props = torch.cuda.get_device_properties(index)
        return f"cuda:{index} ({props.name}, {props.total_memory / 2**30:.0f} GiB)"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return str(device)
