"""Tests of utils.device: device order and overrides (with CUDA and MPS faked), seeding."""

import random

import numpy as np
import pytest
import torch

from utils import device as device_module
from utils.device import available_devices, describe_device, get_device, seed_everything


@pytest.fixture
def fake_hardware(monkeypatch):
    """Pretend this machine has ``cuda`` GPUs and/or MPS: ``fake_hardware(cuda=2, mps=False)``."""
    monkeypatch.delenv("MLP_COURSE_DEVICE", raising=False)

    def set_hardware(cuda=0, mps=False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    set_hardware()
    return set_hardware


@pytest.mark.parametrize("cuda, mps, expected", [
    (1, True, "cuda"),
    (0, True, "mps"),
    (0, False, "cpu"),
])
def test_order_is_cuda_then_mps_then_cpu(fake_hardware, cuda, mps, expected):
    fake_hardware(cuda=cuda, mps=mps)
    assert get_device() == torch.device(expected)


def test_available_devices_lists_best_first(fake_hardware):
    fake_hardware(cuda=2, mps=False)
    assert available_devices() == ["cuda:0", "cuda:1", "cpu"]


def test_preferred_argument_overrides_the_order(fake_hardware):
    fake_hardware(cuda=2, mps=True)
    assert get_device("cpu") == torch.device("cpu")
    assert get_device("cuda:1") == torch.device("cuda:1")
    assert get_device(torch.device("mps")) == torch.device("mps")


def test_environment_variable_overrides_and_argument_beats_it(fake_hardware, monkeypatch):
    fake_hardware(cuda=1, mps=False)
    monkeypatch.setenv("MLP_COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("cuda") == torch.device("cuda")
    monkeypatch.setenv("MLP_COURSE_DEVICE", "")  # empty means unset
    assert get_device() == torch.device("cuda")


def test_unavailable_request_says_what_is_available(fake_hardware, monkeypatch):
    fake_hardware(cuda=2, mps=False)
    with pytest.raises(RuntimeError, match=r"'cuda:3'.*Available: cuda:0, cuda:1, cpu"):
        get_device("cuda:3")
    with pytest.raises(RuntimeError, match="'mps'"):
        get_device("mps")


def test_unavailable_environment_request_names_the_variable(fake_hardware, monkeypatch):
    monkeypatch.setenv("MLP_COURSE_DEVICE", "cuda")
    with pytest.raises(RuntimeError) as info:
        get_device()
    message = str(info.value)
    assert "MLP_COURSE_DEVICE" in message and "Available: cpu" in message


def test_a_name_that_is_no_device_is_a_value_error(fake_hardware):
    with pytest.raises(ValueError, match="not a device name"):
        get_device("gpu")


def test_real_default_device_is_usable():
    device = get_device()
    assert torch.zeros(2, device=device).device.type == device.type


def test_seed_everything_repeats_every_generator():
    def draw(generator):
        return (random.random(), np.random.rand(), torch.rand(1).item(), generator.random())

    first = draw(seed_everything(123))
    second = draw(seed_everything(123))
    assert first == second
    assert draw(seed_everything(124)) != first
    assert isinstance(seed_everything(0), np.random.Generator)


@pytest.mark.parametrize("bad_seed", [-1, 2**32, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(bad_seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad_seed)


def test_describe_device():
    assert describe_device("cpu") == f"cpu ({torch.get_num_threads()} threads)"
    assert isinstance(describe_device(), str)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_describe_cuda_device_names_the_gpu():
    assert torch.cuda.get_device_name(0) in describe_device("cuda")


def test_module_names_its_environment_variable():
    assert device_module.ENV_VAR == "MLP_COURSE_DEVICE"
