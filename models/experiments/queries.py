"""Where a copier's questions come from: real digits, another kind of image, or noise.

All sources return normalised images (N, 1, 28, 28) and never labels: the copier gets no labels.
"""
from __future__ import annotations

import functools
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.base.configs import SOURCES, ConfigError
from models.core.data import Dataset, data_root, normalise

FASHION_DIRS = (Path("/usr/share/datasets/fashion-mnist"),)  # Debian's dataset-fashion-mnist
FASHION_HOW = "install it with `apt-get install dataset-fashion-mnist` (Debian) or put it under $DISTILL_DATA/FashionMNIST/raw"


@dataclass(frozen=True, eq=False)
class QuerySet:
    images: torch.Tensor  # (N, 1, 28, 28), normalised like MNIST
    name: str
    notice: str = ""


def _read_idx_images(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if int.from_bytes(raw[:4], "big") != 2051:
        raise ValueError(f"{path} is not an idx image file")
    count, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows, cols)


@functools.lru_cache(maxsize=1)
def _fashion_pixels(path: Path) -> torch.Tensor:
    return torch.from_numpy(_read_idx_images(path).copy())


def fashion_path() -> Path | None:
    """The Fashion-MNIST training images, if this machine has them."""
    candidates = [d / "train-images-idx3-ubyte.gz" for d in FASHION_DIRS]
    root = data_root() / "FashionMNIST" / "raw"
    candidates += [root / "train-images-idx3-ubyte", root / "train-images-idx3-ubyte.gz"]
    override = os.environ.get("DISTILL_FASHION")  # a file path, or "none" to pretend it is absent
    if override:
        candidates = [] if override == "none" else [Path(override)]
    return next((p for p in candidates if p.is_file()), None)


def strokes_and_shapes(count: int, generator: torch.Generator) -> torch.Tensor:
    """Random pen strokes and ellipses, thick like handwriting but not digits. (N, 28, 28) in [0, 1]."""
    grid = torch.stack(torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij"), -1)  # (28, 28, 2)
    images = torch.zeros(count, 28, 28)
    for _ in range(3):
        start = torch.rand(count, 1, 1, 2, generator=generator) * 20 + 4
        end = torch.rand(count, 1, 1, 2, generator=generator) * 20 + 4
        along = end - start
        t = (((grid - start) * along).sum(-1) / along.pow(2).sum(-1).clamp(min=1e-6)).clamp(0, 1)
        distance = (grid - (start + t.unsqueeze(-1) * along)).norm(dim=-1)
        use = (torch.rand(count, 1, 1, generator=generator) < 0.8).float()
        images = torch.maximum(images, use * (1.5 - distance).clamp(0, 1))
    centre = torch.rand(count, 1, 1, 2, generator=generator) * 12 + 8
    radii = torch.rand(count, 1, 1, 2, generator=generator) * 6 + 3
    ring = (((grid - centre) / radii).pow(2).sum(-1).sqrt() - 1).abs() * radii.min(-1).values
    has_ring = (torch.rand(count, 1, 1, generator=generator) < 0.5).float()
    return torch.maximum(images, has_ring * (1.5 - ring).clamp(0, 1))


def check_budget(source: str, count: int, dataset: Dataset) -> None:
    """Raise when a finite source holds fewer images than the budget asks for."""
    if source == "mnist" and count > dataset.train_size:
        raise ConfigError(f"queries must be between 1 and {dataset.train_size} for source mnist "
                          f"(the training images available), got {count}")


def query_set(source: str, count: int, seed: int, dataset: Dataset) -> QuerySet:
    """`count` query images from a source. MNIST queries are training images without their labels."""
    if source not in SOURCES:
        raise ConfigError(f"unknown query source {source!r}; choose one of: {', '.join(SOURCES)}")
    generator = torch.Generator().manual_seed(seed)
    check_budget(source, count, dataset)
    if source == "mnist":
        pick = torch.randperm(dataset.train_size, generator=generator)[:count]
        return QuerySet(dataset.train_x[pick], f"{dataset.name} training images (labels withheld)")
    if source == "noise":
        return QuerySet(normalise(torch.rand(count, 28, 28, generator=generator)), "uniform noise")
    path = fashion_path()
    if path is not None:
        try:
            pixels = _fashion_pixels(path)
        except (OSError, ValueError, EOFError) as error:
            notice = f"Fashion-MNIST at {path} is unreadable ({type(error).__name__}); using generated strokes and shapes."
        else:
            if count > len(pixels):
                raise ConfigError(f"queries must be between 1 and {len(pixels)} for source fashion, got {count}")
            pick = torch.randperm(len(pixels), generator=generator)[:count]
            return QuerySet(normalise(pixels[pick]), "Fashion-MNIST (clothing)")
    else:
        notice = f"Fashion-MNIST is not on this machine ({FASHION_HOW}); using generated strokes and shapes instead."
    return QuerySet(normalise(strokes_and_shapes(count, generator)), "generated strokes and shapes", notice)


def ceil_div(numerator: int, denominator: int) -> int:
    """Whole units needed to cover `numerator` in chunks of `denominator` (exact for big integers)."""
    return -(-numerator // denominator)


def accounts_needed(total_queries: int, per_account_per_day: int, days: int) -> int:
    """Accounts a copier needs to ask `total_queries` questions within `days` under a rate limit."""
    return ceil_div(total_queries, per_account_per_day * days)


def days_needed(total_queries: int, per_account_per_day: int, accounts: int) -> int:
    """Days a campaign with `accounts` accounts needs under a rate limit."""
    return ceil_div(total_queries, per_account_per_day * accounts)
