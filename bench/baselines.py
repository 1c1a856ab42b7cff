"""The slow-but-common ways, measured in the same run as ours so the ratios mean something.

Both follow the usual tutorial layout: torchvision dataset + ToTensor/Normalize per item, a
DataLoader, and (for distillation) the teacher run on every batch.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import datasets, transforms

from models.core.data import MEAN, STD
from models.core.loss import distillation_loss
from models.core.nets import MLP


class ExamplesNet(nn.Module):
    """pytorch/examples mnist/main.py: the canonical 1.2M-parameter CNN."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1, self.dropout2 = nn.Dropout(0.25), nn.Dropout(0.5)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.relu(self.fc1(torch.flatten(self.dropout1(x), 1)))
        return self.fc2(self.dropout2(x))


def _loader(root: str, train: bool, batch_size: int, shuffle: bool = True):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    return torch.utils.data.DataLoader(datasets.MNIST(root, train=train, transform=tf),
                                       batch_size=batch_size, shuffle=shuffle)


def examples_recipe(root: str, epochs: int = 1) -> dict:
    """Adadelta lr 1.0, batch 64, StepLR gamma 0.7, as in pytorch/examples."""
    torch.manual_seed(1)
    started = time.perf_counter()
    model = ExamplesNet()
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    for _ in range(epochs):
        model.train()
        for x, y in _loader(root, True, 64):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        schedule.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in _loader(root, False, 1000, shuffle=False):
            correct += (model(x).argmax(1) == y).sum().item()
    return {"seconds": round(time.perf_counter() - started, 2), "test_accuracy": correct / 10000}


def dataloader_logits(teacher: nn.Module, root: str) -> float:
    """Teacher logits over the training set through a DataLoader with per-item transforms."""
    started = time.perf_counter()
    with torch.no_grad():
        for x, _ in _loader(root, True, 64, shuffle=False):
            teacher(x)
    return round(time.perf_counter() - started, 2)


def tutorial_distillation_epoch(teacher: nn.Module, root: str, temperature: float = 4.0, alpha: float = 0.9) -> float:
    """One epoch of mlp-100 distillation with the teacher run on every batch (no twin)."""
    torch.manual_seed(0)
    student = MLP(100)
    optimizer = torch.optim.Adam(student.parameters(), lr=1e-3)
    started = time.perf_counter()
    for x, y in _loader(root, True, 64):
        with torch.no_grad():
            soft = teacher(x)
        loss = distillation_loss(student(x), soft, y, temperature, alpha)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return round(time.perf_counter() - started, 2)
