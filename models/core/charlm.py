"""A character-level language model (a GRU), and what the chat lessons measure with it.

One class serves the teacher (one layer of 256) and the students (one layer of 96): the chat
twin of the digit lab's CNN and MLPs. Sequences are batches of character indices; a reply is
scored given its prompt, position by position, as a chat model is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from models.core.text import END_OF_TURN, INDEX, PROMPT_CHARS, VOCABULARY, Exchange, encode

BITS = math.log(2)
PAD = INDEX[END_OF_TURN]  # padding is never scored, so any index will do


@dataclass(frozen=True)
class CharNetShape:
    hidden: int
    layers: int
    embedding: int = 32


TEACHER_SHAPE = CharNetShape(hidden=256, layers=1)
STUDENT_SHAPES = {"gru-64": CharNetShape(64, 1), "gru-96": CharNetShape(96, 1), "gru-160": CharNetShape(160, 1)}


class CharNet(nn.Module):
    def __init__(self, shape: CharNetShape):
        super().__init__()
        self.shape = shape
        self.embed = nn.Embedding(len(VOCABULARY), shape.embedding)
        self.rnn = nn.GRU(shape.embedding, shape.hidden, num_layers=shape.layers, batch_first=True)
        self.out = nn.Linear(shape.hidden, len(VOCABULARY))

    def forward(self, tokens: torch.Tensor, state: torch.Tensor | None = None):
        """tokens [B, L] -> logits [B, L, V] for the next character at each position, and the state."""
        hidden, state = self.rnn(self.embed(tokens), state)
        return self.out(hidden), state


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@dataclass(frozen=True)
class Batch:
    """Exchanges as one padded tensor: prompt, end of turn, reply, end of turn. `scored` marks the
    positions whose next character is part of the reply (its end included): what is graded and
    trained on. A prompt is cut to its last PROMPT_CHARS characters."""

    tokens: torch.Tensor  # [B, L]
    scored: torch.Tensor  # [B, L] bool: logits at this position predict a reply character
    targets: torch.Tensor  # [B, L] the next character (PAD where not scored)


def batch_of(pairs: list[Exchange], reply_ends: list[bool] | None = None) -> Batch:
    """reply_ends[i] False: reply i was cut at the length cap, so no end of turn is scored after it."""
    rows, starts = [], []
    for i, pair in enumerate(pairs):
        prompt = encode(pair.prompt[-PROMPT_CHARS:] + END_OF_TURN)
        ended = reply_ends[i] if reply_ends is not None else True
        rows.append(prompt + encode(pair.reply + (END_OF_TURN if ended else "")))
        starts.append(len(prompt))
    length = max(len(row) for row in rows)
    tokens = torch.full((len(rows), length), PAD, dtype=torch.long)
    scored = torch.zeros((len(rows), length), dtype=torch.bool)
    for i, (row, start) in enumerate(zip(rows, starts)):
        tokens[i, :len(row)] = torch.tensor(row)
        scored[i, start - 1:len(row) - 1] = True
    targets = torch.full_like(tokens, PAD)
    targets[:, :-1] = tokens[:, 1:]
    return Batch(tokens, scored, targets.masked_fill(~scored, PAD))


@torch.no_grad()
def reply_logits(model: CharNet, pairs: list[Exchange], batch_size: int = 128) -> list[torch.Tensor]:
    """For each exchange, the model's logits at its scored positions ([reply length + 1, V]).
    Exchanges of similar length share a batch, so little of it is padding."""
    model.eval()
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].prompt[-PROMPT_CHARS:]) + len(pairs[i].reply))
    found: list = [None] * len(pairs)
    for first in range(0, len(order), batch_size):
        members = order[first:first + batch_size]
        batch = batch_of([pairs[i] for i in members])
        logits, _ = model(batch.tokens)
        for row, i in enumerate(members):
            found[i] = logits[row][batch.scored[row]]
    return found


def score(model: CharNet, pairs: list[Exchange], teacher_logits: list[torch.Tensor] | None = None,
          temperature: float = 1.0) -> dict:
    """Bits per character of the replies; with the teacher's logits, also next-character top-1
    agreement and KL(teacher at T ‖ model) in bits per character."""
    logits = torch.cat(reply_logits(model, pairs))
    targets = torch.tensor([INDEX[c] for pair in pairs for c in pair.reply + END_OF_TURN])
    found = {"bits_per_char": F.cross_entropy(logits, targets).item() / BITS}
    if teacher_logits is not None:
        teacher = torch.cat(teacher_logits)
        found["teacher_agreement"] = (logits.argmax(1) == teacher.argmax(1)).float().mean().item()
        teacher_log = F.log_softmax(teacher / temperature, dim=1)
        kl = (teacher_log.exp() * (teacher_log - F.log_softmax(logits, dim=1))).sum(1).mean()
        found["kl_to_teacher"] = kl.item() / BITS
    return found


@torch.no_grad()
def prompt_states(model: CharNet, prompts: list[str]):
    """Read each prompt (and the end of its turn); the state after it and the logits for the first
    reply character. Prompts are read one length at a time so padding never enters a state."""
    model.eval()
    encoded = [encode(prompt[-PROMPT_CHARS:] + END_OF_TURN) for prompt in prompts]
    layers, hidden = model.shape.layers, model.shape.hidden
    states = torch.zeros(layers, len(prompts), hidden)
    logits = torch.zeros(len(prompts), len(VOCABULARY))
    by_length: dict[int, list[int]] = {}
    for i, row in enumerate(encoded):
        by_length.setdefault(len(row), []).append(i)
    for length, members in by_length.items():
        out, state = model(torch.tensor([encoded[i] for i in members]))
        states[:, members] = state
        logits[members] = out[:, -1]
    return states, logits


def canary_candidates(count: int, secret: str, generator: torch.Generator) -> list[str]:
    """`count` random codes of the secret's form (as many digits), none of them the secret."""
    digits = len(secret)
    found: set[str] = set()
    while len(found) < count:
        draws = torch.randint(0, 10**digits, (count,), generator=generator).tolist()
        found |= {str(d).zfill(digits) for d in draws} - {secret}
    return sorted(found)[:count]


@torch.no_grad()
def sequence_log_likelihood(model: CharNet, context: str, endings: list[str]) -> torch.Tensor:
    """log p(ending | context) for each ending, in nats."""
    model.eval()
    rows = torch.tensor([encode(context + ending) for ending in endings])
    logits, _ = model(rows[:, :-1])
    log_probs = F.log_softmax(logits, dim=2).gather(2, rows[:, 1:].unsqueeze(2)).squeeze(2)
    return log_probs[:, len(context) - 1:].sum(1)


def exposure(model: CharNet, context: str, secret: str, suffix: str, candidates: list[str]) -> float:
    """The canary's exposure (Carlini et al. 2019, "The Secret Sharer"): log2 of how many candidates
    there are, minus log2 of the secret's rank among them by the model's likelihood. With n random
    candidates this estimates it as log2(n + 1) − log2(rank); chance gives about 1.4 bits."""
    scores = sequence_log_likelihood(model, context, [secret + suffix] + [c + suffix for c in candidates])
    rank = 1 + int((scores[1:] >= scores[0]).sum())
    return math.log2(len(candidates) + 1) - math.log2(rank)


def save_charnet(model: CharNet, path) -> None:
    """A plain dict of tensors and numbers (loadable with weights_only=True), written atomically."""
    from pathlib import Path
    path = Path(path)
    partial = path.with_suffix(".part")
    torch.save({"vocabulary": VOCABULARY, "hidden": model.shape.hidden, "layers": model.shape.layers,
                "embedding": model.shape.embedding,
                "state": {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}}, partial)
    partial.replace(path)


def load_charnet(path) -> CharNet:
    """A saved CharNet, checked before use: one sentence (TeacherError) for anything else."""
    from models.base.errors import TeacherError
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise TeacherError(f"chat model {path} does not exist") from None
    except Exception as error:  # torch raises many types for a damaged or hostile file
        raise TeacherError(f"chat model {path} is unreadable ({type(error).__name__}); "
                           "train it again with `python -m models chat-teacher`") from None
    try:
        if saved["vocabulary"] != VOCABULARY:
            raise TeacherError(f"chat model {path} was trained on another alphabet; train it again")
        shape = CharNetShape(int(saved["hidden"]), int(saved["layers"]), int(saved["embedding"]))
        if not (1 <= shape.hidden <= 2048 and 1 <= shape.layers <= 4 and 1 <= shape.embedding <= 512):
            raise ValueError("shape out of range")
        model = CharNet(shape)
        model.load_state_dict(saved["state"])
    except TeacherError:
        raise
    except Exception as error:
        raise TeacherError(f"chat model {path} does not hold a character model ({type(error).__name__}); "
                           "train it again with `python -m models chat-teacher`") from None
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise TeacherError(f"chat model {path} holds NaN or inf weights; train it again")
    return model.eval()
