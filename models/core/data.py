"""MNIST as tensors preloaded in memory, with an offline fallback.

The real loader is torchvision's MNIST, rooted at $DISTILL_DATA (default ./data). When the files
are not there it tries torchvision's download with a short timeout; when that fails too (offline)
it uses the bundled sample: real MNIST images, a class-balanced 8,000 of the training set plus the
full 10,000-image test set. Every caller learns which dataset it got through `Dataset.name`.
"""
from __future__ import annotations

import functools
import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

SAMPLE_PATH = Path(__file__).parent.parent / "assets" / "mnist_sample.npz"
FULL_NAME = "MNIST"
SAMPLE_NAME = "MNIST sample (bundled)"
HOW_TO_GET_FULL = ("for the full 60,000-image set, put torchvision's MNIST/raw files under "
                   "$DISTILL_DATA (see docs/data.md)")
MEAN, STD = 0.1307, 0.3081  # MNIST pixel statistics, the usual normalisation
DOWNLOAD_TIMEOUT_S = 5.0
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Normalised images (N, 1, 28, 28) float32 and labels (N,) int64, all in memory."""

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    notice: str = ""  # why this is not the full set, when it is not

    @property
    def train_size(self) -> int:
        return len(self.train_y)

    @property
    def test_size(self) -> int:
        return len(self.test_y)

    @functools.cached_property
    def fingerprint(self) -> str:
        """Short hash of the training images: keys caches of teacher logits."""
        digest = hashlib.sha1(self.train_x.numpy().tobytes()).hexdigest()
        return f"{self.train_size}-{digest[:12]}"

    def test_image(self, index: int) -> np.ndarray:
        """One test image back as (28, 28) uint8 pixels, ink dark on white, for display."""
        pixels = (self.test_x[index, 0] * STD + MEAN).clamp(0, 1)
        return (255 - pixels * 255).round().to(torch.uint8).numpy()

    def summary(self) -> dict:
        return {"name": self.name, "train_size": self.train_size, "test_size": self.test_size,
                "fingerprint": self.fingerprint}

    def describe(self) -> str:
        text = f"{self.name}: {self.train_size:,} training and {self.test_size:,} test images"
        return f"{text}. {self.notice}" if self.notice else text


def data_root() -> Path:
    return Path(os.environ.get("DISTILL_DATA", "data"))


def normalise(pixels: torch.Tensor) -> torch.Tensor:
    """(N, 28, 28) pixels, uint8 0-255 or float 0-1 -> (N, 1, 28, 28) float32 in MNIST units."""
    pixels = pixels.float() / 255.0 if pixels.dtype == torch.uint8 else pixels.float()
    return ((pixels - MEAN) / STD).unsqueeze(1).contiguous()


def _from_uint8(name, train_images, train_labels, test_images, test_labels, notice="") -> Dataset:
    as_tensor = lambda a: torch.as_tensor(np.asarray(a))
    return Dataset(
        name=name,
        train_x=normalise(as_tensor(train_images)),
        train_y=as_tensor(train_labels).long(),
        test_x=normalise(as_tensor(test_images)),
        test_y=as_tensor(test_labels).long(),
        notice=notice,
    )


def _torchvision_mnist(root: Path, download: bool):
    from torchvision.datasets import MNIST

    return MNIST(str(root), train=True, download=download), MNIST(str(root), train=False, download=download)


def _load_full(root: Path) -> Dataset:
    train, test = _torchvision_mnist(root, download=False)
    return _from_uint8(FULL_NAME, train.data, train.targets, test.data, test.targets)


def _try_download(root: Path) -> None:
    """torchvision's download, bounded by a socket timeout so an offline machine fails fast."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        _torchvision_mnist(root, download=True)
    finally:
        socket.setdefaulttimeout(previous)


def _raw_files_present(root: Path) -> bool:
    raw = root / "MNIST" / "raw"
    return all((raw / name).is_file() for name in RAW_FILES)


def load_sample(notice: str = "") -> Dataset:
    with np.load(SAMPLE_PATH) as sample:
        return _from_uint8(SAMPLE_NAME, sample["train_images"], sample["train_labels"],
                           sample["test_images"], sample["test_labels"], notice)


def load_mnist(root: Path | None = None, allow_download: bool | None = None) -> Dataset:
    """Full MNIST from `root` if it is there and readable; otherwise download; otherwise the sample.

    allow_download defaults to off when $DISTILL_OFFLINE=1.
    """
    root = Path(root) if root is not None else data_root()
    if allow_download is None:
        allow_download = os.environ.get("DISTILL_OFFLINE") != "1"
    try:
        return _load_full(root)
    except Exception as error:
        if _raw_files_present(root):  # there but truncated or corrupted: say so, do not download
            reason = f"the MNIST files under {root} are unreadable ({type(error).__name__})"
            return load_sample(notice=f"Using the bundled sample because {reason}; {HOW_TO_GET_FULL}.")
    reason = f"MNIST was not found under {root}"
    if allow_download:
        try:
            _try_download(root)
            return _load_full(root)
        except Exception as download_error:  # offline, a proxy, a bad mirror: all mean "no"
            reason += f" and the download failed ({type(download_error).__name__})"
    return load_sample(notice=f"Using the bundled sample because {reason}; {HOW_TO_GET_FULL}.")


@functools.lru_cache(maxsize=1)
def default_dataset() -> Dataset:
    """The process-wide dataset (loaded once per process)."""
    return load_mnist()


def write_sample(source_root: Path, per_class: int = 800, seed: int = 0, path: Path = SAMPLE_PATH) -> None:
    """Rebuild the bundled sample from full MNIST (how assets/mnist_sample.npz was made)."""
    train, test = _torchvision_mnist(Path(source_root), download=False)
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for digit in range(10):
        of_digit = (train.targets == digit).nonzero().flatten()
        picks.append(of_digit[torch.randperm(len(of_digit), generator=generator)[:per_class]])
    index = torch.cat(picks).sort().values
    np.savez_compressed(path, train_images=train.data[index].numpy(),
                        train_labels=train.targets[index].numpy().astype(np.uint8),
                        test_images=test.data.numpy(), test_labels=test.targets.numpy().astype(np.uint8),
                        train_source_index=index.numpy().astype(np.int32))
