"""The chat teacher as a service: a prompt in, a sampled reply out, every exchange counted.

What comes back besides the text is the provider's choice, a ladder (CHAT_TOP_K in models/base/configs/chat.py):
the text alone (what a chat user sees), the top-k log-probabilities at every position of the reply
(k = 1, 5 or 20; one well-known API offers up to 20), or the full next-character distribution (the
white box a lab distilling its own model has). The reply is sampled at the service temperature,
optionally from the top-p nucleus only, and the probabilities returned are those it was sampled from.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from models.base.configs import CHAT_TOP_K, ConfigError
from models.core.charlm import CharNet, prompt_states
from models.core.stopping import between_steps
from models.core.text import END_OF_TURN, INDEX, decode

END = INDEX[END_OF_TURN]


@dataclass(frozen=True)
class ChatAnswer:
    """One exchange's answer. Per position of the reply (its characters, then the end of turn if the
    reply ended before the length cap): the indices and log-probabilities the mode reveals, or None."""

    prompt: str
    reply: str
    ended: bool
    top_indices: torch.Tensor | None = None  # [positions, k] long
    top_log_probs: torch.Tensor | None = None  # [positions, k]; with "full", k is the vocabulary

    @property
    def positions(self) -> int:
        return len(self.reply) + int(self.ended)


def nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep the most likely characters whose probabilities first sum to at least top_p, renormalised."""
    if top_p >= 1.0:
        return probs
    ordered, order = probs.sort(dim=1, descending=True)
    before = ordered.cumsum(1) - ordered  # mass of the characters ranked above each one
    ordered = ordered.masked_fill(before >= top_p, 0.0)
    kept = torch.zeros_like(probs).scatter(1, order, ordered)
    return kept / kept.sum(1, keepdim=True)


class ChatAPI:
    def __init__(self, teacher: CharNet, answers: str, temperature: float = 1.0, top_p: float = 1.0,
                 reply_chars: int = 200, seed: int = 0):
        if answers not in CHAT_TOP_K:
            raise ConfigError(f"unknown answer mode {answers!r}; choose one of: {', '.join(CHAT_TOP_K)}")
        self.teacher, self.answers = teacher, answers
        self.temperature, self.top_p, self.reply_chars = temperature, top_p, reply_chars
        self.generator = torch.Generator().manual_seed(seed)
        self.exchanges = 0
        self.characters = 0  # reply characters served

    @torch.no_grad()
    def ask(self, prompts: list[str]) -> list[ChatAnswer]:
        if not prompts:
            raise ConfigError("there are no prompts to ask; give at least one")
        self.teacher.eval()
        state, logits = prompt_states(self.teacher, prompts)
        count, cap = len(prompts), self.reply_chars
        chars = torch.full((count, cap + 1), END, dtype=torch.long)
        log_probs = torch.zeros(count, cap + 1, logits.shape[1])
        open_rows = torch.ones(count, dtype=torch.bool)
        lengths = torch.full((count,), cap, dtype=torch.long)
        for position in range(cap + 1):
            between_steps()
            served = F.softmax(logits / self.temperature, dim=1)
            served = nucleus(served, self.top_p)
            log_probs[:, position] = served.clamp_min(1e-30).log()
            if position == cap:
                break
            drawn = torch.multinomial(served, 1, generator=self.generator).squeeze(1)
            chars[:, position] = drawn
            ending = open_rows & (drawn == END)
            lengths[ending] = position
            open_rows &= ~ending
            if not open_rows.any():
                break
            out, state = self.teacher(drawn.unsqueeze(1), state)
            logits = out[:, -1]
        answers = []
        k = CHAT_TOP_K[self.answers]
        for i, prompt in enumerate(prompts):
            length = int(lengths[i])
            ended = not bool(open_rows[i])
            answer = ChatAnswer(prompt, decode(chars[i, :length]), ended)
            if k != 0:  # None: the full distribution, in order of likelihood
                positions = log_probs[i, :length + int(ended)]
                top = positions.topk(k or positions.shape[1], dim=1)
                answer = ChatAnswer(prompt, answer.reply, ended, top.indices, top.values)
            answers.append(answer)
            self.characters += length
        self.exchanges += count
        return answers
