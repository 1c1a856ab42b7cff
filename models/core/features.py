"""Feature distillation: the student matches the teacher's insides, not only its answers.

FitNets (Romero et al. 2015): a learned linear regressor maps the student's hidden layer to a
teacher layer, and the student is trained to make that projection match the teacher's activations
(mean squared error, the "hint"); the cosine variant asks only for the same direction (as PyTorch's
own knowledge-distillation tutorial does). Attention transfer (Zagoruyko & Komodakis 2017), for the
CNN student, matches where each network looks instead: the teacher's and the student's conv2 maps
are both 8 × 8, so each becomes one normalised map of mean squared activation per position, and no
regressor is needed. Each is weighted by β beside Hinton's loss. A lab
distilling its own model can do this; a copier behind an API never sees these activations.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models.core.nets import MLP, SmallCNN, TeacherCNN


def attention_map(activations: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) activations -> (B, H·W): the mean squared activation at each position over the
    channels, scaled to unit length (so a map says where, not how strongly)."""
    return F.normalize(activations.pow(2).mean(1).flatten(1), dim=1)


@torch.inference_mode()
def teacher_features(teacher: TeacherCNN, images: torch.Tensor, layer: str, chunk: int = 2000,
                     attention: bool = False) -> torch.Tensor:
    """The teacher's activations at `layer` for (N, 1, 28, 28) images: (N, D). "conv2": the second
    convolution's pooled maps, flattened (16 × 4 × 4 = 256); "fc1": the wide dense layer (5,120).
    With attention: the conv2 attention map before pooling (8 × 8 = 64)."""
    teacher.eval()
    out = []
    for first in range(0, len(images), chunk):
        x = F.relu(F.max_pool2d(teacher.conv1(images[first:first + chunk]), 2))
        if attention:
            out.append(attention_map(F.relu(teacher.conv2(x))))
            continue
        x = F.relu(F.max_pool2d(teacher.conv2(x), 2)).flatten(1)
        out.append(F.relu(teacher.fc1(x)) if layer == "fc1" else x)
    return torch.cat(out).float()


def student_hidden_and_logits(student: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's last hidden layer (B, H) and its logits (B, 10), in one forward pass."""
    if isinstance(student, MLP):
        hidden = student.net[:-1](x)
        return hidden, student.net[-1](hidden)
    if isinstance(student, SmallCNN):
        hidden = F.max_pool2d(_small_cnn_maps(student, x), 2).flatten(1)
        return hidden, student.fc(hidden)
    raise TypeError(f"no hidden layer known for {type(student).__name__}")


def hidden_width(student: nn.Module) -> int:
    return student_hidden_and_logits(student, torch.zeros(1, 1, 28, 28))[0].shape[1]


def _small_cnn_maps(student: SmallCNN, x: torch.Tensor) -> torch.Tensor:
    """cnn-tiny's conv2 maps after ReLU, before pooling: (B, 8, 8, 8). Its forward pools these and reads out."""
    return F.relu(student.conv2(F.max_pool2d(F.relu(student.conv1(x)), 2)))


def student_attention_and_logits(student: SmallCNN, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cnn-tiny's conv2 attention map (B, 64), before pooling, and its logits."""
    maps = _small_cnn_maps(student, x)
    return attention_map(maps), student.fc(F.max_pool2d(maps, 2).flatten(1))


class HintedStudent(nn.Module):
    """A student with its FitNets regressor (student hidden -> teacher layer). Called, it is the
    student alone (so grading, prediction and saved weights are the student's); the regressor only
    exists for training and is thrown away after."""

    def __init__(self, student: nn.Module, teacher_width: int, attention: bool = False):
        super().__init__()
        self.student, self.attention = student, attention
        # Attention maps of teacher and student have one shape already: nothing to learn between them.
        self.regressor = nn.Identity() if attention else nn.Linear(hidden_width(student), teacher_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.student(x)

    def projected_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.attention:
            return student_attention_and_logits(self.student, x)
        hidden, logits = student_hidden_and_logits(self.student, x)
        return self.regressor(hidden), logits
