"""Architectures: the teacher CNN and the student presets.

Only models live here. Inputs are normalised MNIST images of shape (B, 1, 28, 28); outputs are
logits of shape (B, 10).
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from models.base.configs import STUDENT_NAMES

NUM_CLASSES = 10


class TeacherCNN(nn.Module):
    """Two thin convolutions, then one wide dense layer.

    Convolutions cost FLOPs per pixel, dense weights cost one multiply per image, so the channels
    are kept few (fast on a CPU) and the parameters sit in the dense layer. That makes the teacher
    the largest model in the lab (about 1.37M parameters, above mlp-800's 1.28M) while an epoch
    over full MNIST still takes seconds on two cores.

    No dropout by default: in two epochs the teacher does not overfit, and drawing a random mask
    over the 5,120 hidden units was a third of each training step on a CPU. Each max-pool comes
    before its ReLU (the same function, since both are monotone) so the ReLU sees a quarter of the
    values. Checkpoints of either layout load, as neither has weights of its own.
    """

    def __init__(self, hidden: int = 5120, dropout: float = 0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)  # (B, 8, 24, 24) -> pool -> (B, 8, 12, 12)
        self.conv2 = nn.Conv2d(8, 16, 5)  # (B, 16, 8, 8) -> pool -> (B, 16, 4, 4)
        self.fc1 = nn.Linear(16 * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, NUM_CLASSES)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = self.dropout(F.relu(self.fc1(x.flatten(1))))
        return self.fc2(x)


class MLP(nn.Module):
    """Hinton et al.'s student: `depth` hidden layers of `width` ReLU units."""

    def __init__(self, width: int, depth: int = 2, dropout: float = 0.0):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        features = 28 * 28
        for _ in range(depth):
            layers += [nn.Linear(features, width), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            features = width
        layers.append(nn.Linear(features, NUM_CLASSES))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """A tiny convolutional student: 4 then 8 channels and a linear read-out."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 5)
        self.conv2 = nn.Conv2d(4, 8, 5)
        self.fc = nn.Linear(8 * 4 * 4, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


# Name -> builder. mlp-W is two hidden layers of W units, as in the paper.
STUDENT_PRESETS = {
    "mlp-10": lambda: MLP(10),
    "mlp-30": lambda: MLP(30),
    "mlp-100": lambda: MLP(100),
    "mlp-300": lambda: MLP(300),
    "mlp-800": lambda: MLP(800),
    "cnn-tiny": SmallCNN,
}


assert tuple(STUDENT_PRESETS) == STUDENT_NAMES, "models/base/configs names the same presets"


def build_student(name: str) -> nn.Module:
    return STUDENT_PRESETS[name]()


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@functools.lru_cache(maxsize=None)
def student_params(name: str) -> int:
    """Parameter count of a preset (cached: pages show it in every selector, on every rerun)."""
    return count_params(build_student(name))
