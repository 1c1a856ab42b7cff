import numpy as np
import pytest

from models.core import data
from models.core.data import FULL_NAME, SAMPLE_NAME, load_mnist
from tests.conftest import FULL_MNIST


def test_no_mnist_and_no_network_falls_back_to_the_sample(tmp_path, monkeypatch):
    attempts = []

    def offline(root):
        attempts.append(root)
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_try_download", offline)
    dataset = load_mnist(tmp_path, allow_download=True)
    assert attempts, "the download should have been tried"
    assert dataset.name == SAMPLE_NAME
    assert "bundled sample" in dataset.notice and "download failed" in dataset.notice
    assert dataset.summary() == {"name": SAMPLE_NAME, "train_size": 8000, "test_size": 10000,
                                 "fingerprint": dataset.fingerprint}
    assert dataset.fingerprint == load_mnist(tmp_path, allow_download=False).fingerprint  # same images, same key


def test_sample_is_real_class_balanced_mnist(sample):
    assert sample.train_x.shape == (8000, 1, 28, 28) and sample.test_x.shape == (10000, 1, 28, 28)
    assert np.bincount(sample.train_y.numpy()).tolist() == [800] * 10
    assert sample.test_y.unique().tolist() == list(range(10))
    # Normalised pixels: background sits at (0 - mean) / std.
    assert sample.train_x.min().item() == pytest.approx(-data.MEAN / data.STD, abs=1e-5)


def test_corrupted_file_gives_the_sample_and_a_reason(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"\x00\x00\x08\x03 this is not MNIST")
    dataset = load_mnist(tmp_path, allow_download=False)
    assert dataset.name == SAMPLE_NAME
    assert "unreadable" in dataset.notice


@pytest.mark.skipif(not (FULL_MNIST / "MNIST" / "raw").is_dir(), reason="full MNIST not on this machine")
def test_full_mnist_loads_from_the_root():
    dataset = load_mnist(FULL_MNIST, allow_download=False)
    assert dataset.name == FULL_NAME and dataset.notice == ""
    assert (dataset.train_size, dataset.test_size) == (60000, 10000)


def test_test_image_round_trips_to_pixels(sample):
    image = sample.test_image(0)
    assert image.shape == (28, 28) and image.dtype == np.uint8
    assert image[0, 0] == 255 and image.min() == 0  # white background, black ink
