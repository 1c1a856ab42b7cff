"""What the lab keeps of a model: the teacher checkpoint (loaded safely, its logits computed once per
dataset) and a stored student with its scratch twin.

A checkpoint is a plain state dict saved with torch.save, beside a JSON sidecar that says how it
was made. Loading uses weights_only=True and checks every tensor before use.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from models.base.configs import TeacherError
from models.core.data import Dataset
from models.core.nets import TeacherCNN, build_student
from models.base.paths import PRETRAINED, state_dir
from models.core.training import predict_logits


@dataclass(frozen=True, eq=False)
class TeacherLogits:
    """The teacher's logits on every training image (N, 10) and every test image (M, 10)."""

    train: torch.Tensor
    test: torch.Tensor


def checkpoint_path(spec: str) -> Path:
    """'pretrained' or a path to a .pt file."""
    return PRETRAINED if spec == "pretrained" else Path(spec)


def sidecar_path(path: Path) -> Path:
    return path.with_suffix(".json")


def read_sidecar(spec: str) -> dict:
    """The checkpoint's JSON card, or {} when there is none or it is not an object (a list, a string,
    null, or nesting too deep to parse are read as no card at all)."""
    path = sidecar_path(checkpoint_path(spec))
    try:
        card = json.loads(path.read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    return card if isinstance(card, dict) else {}


def _file_digest(path: Path) -> str:
    stat = path.stat()  # re-hash only when the file changes: pages ask on every rerun
    return _digest_of(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _digest_of(path: str, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, digest: str) -> TeacherCNN:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise TeacherError(f"teacher checkpoint {path} is unreadable ({type(error).__name__}); "
                           "train a new teacher instead") from None
    model = TeacherCNN()
    expected = model.state_dict()
    if not isinstance(state, dict) or set(state) != set(expected):
        raise TeacherError(f"teacher checkpoint {path} does not hold a TeacherCNN; train a new teacher instead")
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or tensor.shape != expected[name].shape:
            raise TeacherError(f"teacher checkpoint {path}: {name} has the wrong shape; train a new teacher instead")
        if not torch.isfinite(tensor).all():
            raise TeacherError(f"teacher checkpoint {path}: {name} holds NaN or inf; train a new teacher instead")
    model.load_state_dict(state)
    return model.eval().requires_grad_(False)


def load_teacher(spec: str = "pretrained") -> TeacherCNN:
    """A read-only teacher in eval mode. Raises TeacherError with a one-line reason."""
    path = checkpoint_path(spec)
    if path.is_dir():
        raise TeacherError(f"teacher checkpoint {path} is a directory; give the path of a .pt file inside it")
    if not path.is_file():
        raise TeacherError(f"teacher checkpoint {path} is missing; train a teacher first "
                           "(python -m models teacher --save PATH, or the Teacher page)")
    return _load_cached(str(path), _file_digest(path))


def teacher_digest(spec: str) -> str:
    """Short SHA-1 of the checkpoint's bytes: runs record it, so two teachers that share a name never
    look comparable."""
    load_teacher(spec)  # a clear error for a missing or broken checkpoint
    return _file_digest(checkpoint_path(spec))


def save_teacher(weights: dict, path: Path, sidecar: dict) -> None:
    """A teacher's state dict as a checkpoint, with the JSON sidecar that says how it was made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(weights, path)
    sidecar_path(path).write_text(json.dumps(sidecar, indent=2) + "\n")



TWIN_PREFIX = "twin."  # a distillation run stores its scratch twin beside the student, under this prefix


def load_student(name: str, state: dict, twin: bool = False) -> nn.Module:
    """A stored student (or, with twin=True, its scratch twin) back in eval mode."""
    if twin:
        state = {key[len(TWIN_PREFIX):]: value for key, value in state.items() if key.startswith(TWIN_PREFIX)}
        if not state:
            raise KeyError("this run stored no scratch twin (runs before twins were kept)")
    else:
        state = {key: value for key, value in state.items() if not key.startswith(TWIN_PREFIX)}
    model = build_student(name)
    model.load_state_dict(state)
    return model.eval().requires_grad_(False)


def has_twin(state: dict) -> bool:
    return any(key.startswith(TWIN_PREFIX) for key in state)


_memory: dict[str, TeacherLogits] = {}
# Many visitors' pages ask at once after a server start: one thread computes, the others wait for it
# (without the lock each computed its own copy, and their writes raced on the cache file).
_computing = threading.Lock()


def teacher_logits(spec: str, dataset: Dataset) -> TeacherLogits:
    """Logits computed once per (checkpoint, dataset), then kept in memory and on disk.

    Students read these instead of running the teacher on every batch. Safe to call from several
    threads at once.
    """
    path = checkpoint_path(spec)
    model = load_teacher(spec)
    key = f"{_file_digest(path)}-{dataset.fingerprint}"
    if key in _memory:
        return _memory[key]
    with _computing:
        if key not in _memory:
            _memory[key] = _logits_from_disk_or_model(model, key, dataset)
    return _memory[key]


def _logits_from_disk_or_model(model: TeacherCNN, key: str, dataset: Dataset) -> TeacherLogits:
    try:
        cache_file = state_dir() / "cache" / f"logits-{key}.pt"
    except OSError:  # no state folder can be made (read-only): compute, keep in memory only
        return TeacherLogits(predict_logits(model, dataset.train_x), predict_logits(model, dataset.test_x))
    logits = None
    if cache_file.is_file():
        try:
            stored = torch.load(cache_file, map_location="cpu", weights_only=True)
            if stored["train"].shape == (dataset.train_size, 10) and stored["test"].shape == (dataset.test_size, 10):
                logits = TeacherLogits(stored["train"], stored["test"])
        except Exception:  # a torn write: recompute below
            logits = None
    if logits is None:
        logits = TeacherLogits(predict_logits(model, dataset.train_x), predict_logits(model, dataset.test_x))
        partial = cache_file.with_suffix(f".{os.getpid()}.tmp")  # other processes (workers) may write too
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"train": logits.train, "test": logits.test}, partial)
            partial.replace(cache_file)  # atomic, so a reader never sees half a file
        except OSError:  # a read-only or full state folder: the answers stay in memory, browsing goes on
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
    return logits
