"""Copying a chat model through its replies: the digit lab's copying story, told in text.

A copier sends prompts to the chat API (models/experiments/chat_api.py) and trains a small
character model on what comes back: on the sampled replies themselves (sequence-level
distillation, Kim & Rush 2016) when the API returns text only, or on the probabilities it reveals
at every reply position (token-level distillation) when it returns top-k log-probabilities or the
full distribution. Beside the copy, its scratch twin starts from the same weights and sees its
batches in the same order, trained on as many characters of the human replies to the same prompts.
The lab, not the copier, grades both on plays neither saw, and looks for the teacher's canary.
"""
from __future__ import annotations

import copy
import functools
import math
import os
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from models.base.configs import CHAT_TOP_K, ChatCopyConfig
from models.core.charlm import (
    STUDENT_SHAPES,
    CharNet,
    batch_of,
    canary_candidates,
    count_params,
    exposure,
    load_charnet,
    reply_logits,
    score,
)
from models.core.text import (
    CANARY_PREFIX,
    CANARY_PROMPT,
    CANARY_SECRET,
    CANARY_SUFFIX,
    END_OF_TURN,
    PROMPT_CHARS,
    Exchange,
    exchanges,
    graded,
    load_corpus,
    made_up_prompts,
)
from models.core.loss import soft_target_term
from models.core.trainer import FitSettings
from models.core.trainer import train as trainer_train
from models.experiments.chat_api import ChatAnswer, ChatAPI
from models.experiments.chat_teacher import CHAT_INDEPENDENT, CHAT_TEACHER
from models.base.results import ChatCopyResult, Outcome, Progress

SAMPLE_SEED_OFFSET = 104729  # the API's sampling stream, apart from the prompts' and the weights'
CANARY_CANDIDATES = 4095  # exposure can then reach log2(4096) = 12 bits
# 1e-2 against 3e-3 and 5e-3 was tried on a few budgets and kept (0.1-0.3 bits better), but judged on
# the graded held-out replies themselves: a choice made on the test text, not on a validation split.
BATCH_SIZE, LEARNING_RATE, CLIP_NORM = 32, 1e-2, 1.0
BUCKET = 8  # batches whose exchanges are sorted by length together
SHOWN_PROMPTS = 4  # held-out prompts whose replies the page shows side by side
PROGRESS_EVERY = 8  # steps between progress records (each is also a chance to cancel)
# Budget-curve defaults: every answer mode at three budgets, as the page draws them.
CURVE_EXCHANGES = (100, 300, 1000)


def teacher_path(spec: str) -> str:
    return str(CHAT_TEACHER if spec == "pretrained" else spec)


@functools.lru_cache(maxsize=4)
def _load(path: str, modified: float) -> CharNet:
    return load_charnet(path)


def load_chat_teacher(spec: str) -> CharNet:
    path = teacher_path(spec)
    return _load(path, os.path.getmtime(path) if os.path.exists(path) else 0.0)


@functools.lru_cache(maxsize=4)
def _exposure_of(path: str, modified: float) -> float:
    return canary_exposure(_load(path, modified))


@functools.lru_cache(maxsize=4)
def _teacher_facts(path: str, modified: float) -> dict:
    """What never changes for a teacher: its logits on the held-out replies, its bits per character
    there, how sure it is of each next character, and its own canary exposure."""
    teacher = _load(path, modified)
    held_out = graded(load_corpus())
    logits = reply_logits(teacher, held_out)
    top = torch.cat(logits).softmax(1).max(1).values
    return {"logits": logits, "bits": score(teacher, held_out)["bits_per_char"],
            "sure_share": (top > 0.9).float().mean().item(), "even_share": (top > 0.5).float().mean().item(),
            "exposure": _exposure_of(path, modified)}


def teacher_facts(spec: str) -> dict:
    path = teacher_path(spec)
    load_chat_teacher(spec)
    return _teacher_facts(path, os.path.getmtime(path))


def independent_exposure() -> float | None:
    """The independent model's exposure, or None where it is not shipped (nothing else of it is needed)."""
    if not CHAT_INDEPENDENT.exists():
        return None
    return _exposure_of(str(CHAT_INDEPENDENT), os.path.getmtime(CHAT_INDEPENDENT))


def canary_exposure(model: CharNet) -> float:
    candidates = canary_candidates(CANARY_CANDIDATES, CANARY_SECRET, torch.Generator().manual_seed(0))
    return exposure(model, CANARY_PROMPT + END_OF_TURN + CANARY_PREFIX, CANARY_SECRET, CANARY_SUFFIX, candidates)


@dataclass(frozen=True)
class Lesson:
    """What one model trains on: exchanges, whether each reply ended, and per exchange either None
    (train on the characters) or what the API revealed at each position: the named characters and
    their probabilities ([positions, k] each; k is the whole vocabulary for full distributions)."""

    pairs: list
    ended: list
    revealed: list | None

    @property
    def characters(self) -> int:
        return sum(len(pair.reply) for pair in self.pairs)


def revealed_loss(logits: torch.Tensor, indices: torch.Tensor, probs: torch.Tensor,
                  sampled: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy against what the API revealed, per position, averaged. Top-k answers name k
    characters and, by what is missing, the mass r of all the others together: the loss is
    −Σ q_i log p_i over the named ones − r log(the student's mass on the unnamed ones). Where the
    sampled character is one of the unnamed, the reply's text says where in that bucket the mass
    lies, which adds −log(p_x / the student's unnamed mass). Those samples come with probability r,
    so on average this is the full soft cross-entropy; nothing is assumed about the tail (spreading
    r evenly would teach the copy a flat one). With the full distribution r = 0: the soft cross-entropy."""
    log_p = F.log_softmax(logits, dim=1)
    named = log_p.gather(1, indices)
    # The named characters' term is distillation's soft term (at T = 1): KL and the cross-entropy
    # above differ by the named probabilities' entropy, a constant of the data.
    loss = soft_target_term(named, probs)
    if indices.shape[1] < logits.shape[1]:
        rest = (1 - probs.sum(1)).clamp_min(0)
        unnamed = log_p.scatter(1, indices, float("-inf")).logsumexp(1)
        extra = -rest * unnamed
        if sampled is not None:
            outside = ~(indices == sampled.unsqueeze(1)).any(1)
            within = log_p.gather(1, sampled.unsqueeze(1)).squeeze(1) - unnamed
            extra = extra - torch.where(outside, within, torch.zeros_like(within))
        loss = loss + extra.mean()
    return loss


def copier_lesson(answers: list[ChatAnswer], mode: str) -> Lesson:
    pairs = [Exchange(a.prompt, a.reply) for a in answers]
    ended = [a.ended for a in answers]
    if CHAT_TOP_K[mode] == 0:
        return Lesson(pairs, ended, None)
    return Lesson(pairs, ended, [(a.top_indices, a.top_log_probs.exp()) for a in answers])


def twin_lesson(human: list[Exchange], characters: int, reply_chars: int) -> Lesson:
    """Human replies, each cut at the API's length cap, until they hold as many characters as the copy
    received (the last one cut to fit); the pool is reused from its start if it runs out."""
    pairs, ended, total = [], [], 0
    for index in range(10 * len(human) + 1):
        if total >= characters:
            break
        pair = human[index % len(human)]
        room = min(reply_chars, characters - total)
        pairs.append(Exchange(pair.prompt, pair.reply[:room]))
        ended.append(len(pair.reply) <= room)
        total += len(pairs[-1].reply)
    return Lesson(pairs, ended, None)


def starting_pair(config: ChatCopyConfig) -> tuple[CharNet, CharNet]:
    """The copy and its scratch twin, from the same starting weights (drawn from the seed)."""
    torch.manual_seed(config.seed)
    student = CharNet(STUDENT_SHAPES[config.student])
    return student, copy.deepcopy(student)


class LessonBatches:
    """A lesson as the trainer's batch source. Each epoch: a random order, then within each run of
    BUCKET batches the exchanges sorted by length, so a batch is mostly characters rather than
    padding; the batches shuffled. A batch is (padded exchanges, the revealed answers or None)."""

    def __init__(self, lesson: Lesson):
        self.lesson = lesson

    def steps_per_epoch(self) -> int:
        span, count = BATCH_SIZE * BUCKET, len(self.lesson.pairs)
        return sum(math.ceil(min(span, count - first) / BATCH_SIZE) for first in range(0, count, span))

    def order(self, generator: torch.Generator) -> list[list[int]]:
        lesson = self.lesson
        order = torch.randperm(len(lesson.pairs), generator=generator).tolist()
        length = lambda i: len(lesson.pairs[i].prompt[-PROMPT_CHARS:]) + len(lesson.pairs[i].reply)  # noqa: E731
        span = BATCH_SIZE * BUCKET
        found = []
        for first in range(0, len(order), span):
            bucket = sorted(order[first:first + span], key=length)
            found += [bucket[i:i + BATCH_SIZE] for i in range(0, len(bucket), BATCH_SIZE)]
        return [found[i] for i in torch.randperm(len(found), generator=generator).tolist()]

    def epoch(self, generator: torch.Generator):
        lesson = self.lesson
        for members in self.order(generator):
            batch = batch_of([lesson.pairs[i] for i in members], [lesson.ended[i] for i in members])
            revealed = None if lesson.revealed is None else (
                torch.cat([lesson.revealed[i][0] for i in members]), torch.cat([lesson.revealed[i][1] for i in members]))
            yield batch, revealed


def lesson_loss(model: CharNet, step: tuple) -> torch.Tensor:
    """Cross-entropy on the reply's characters, or the revealed loss where the API revealed more."""
    batch, revealed = step
    logits, _ = model(batch.tokens)
    scored, sampled = logits[batch.scored], batch.targets[batch.scored]
    return F.cross_entropy(scored, sampled) if revealed is None else revealed_loss(scored, *revealed, sampled)


def train(model: CharNet, lesson: Lesson, epochs: int, seed: int, on_step, span: tuple[float, int] | None = None) -> None:
    """Adam over minibatches of exchanges, through the lab's one trainer; the batch order comes from
    the seed alone, so the copy and its twin see their batches in the same order."""
    settings = FitSettings(epochs, BATCH_SIZE, LEARNING_RATE, seed + 1, clip_norm=CLIP_NORM)
    trainer_train({"model": model}, {"model": lesson_loss}, LessonBatches(lesson), settings,
                  on_epoch=lambda epoch: on_step(float(epoch)), on_step=lambda done, losses: on_step(done),
                  report_every=PROGRESS_EVERY, span=span)
    model.eval()


def sample_replies(models: dict, prompts: list[str], config: ChatCopyConfig) -> list[dict]:
    """Each model's reply to the same prompts, sampled the same way (same temperature and stream)."""
    shown = {name: [a.reply for a in ChatAPI(model, "text", config.temperature, config.top_p,
                                              config.reply_chars, seed=config.seed).ask(prompts)]
             for name, model in models.items()}
    return [{"prompt": prompt, **{name: replies[i] for name, replies in shown.items()}}
            for i, prompt in enumerate(prompts)]


def run(config: ChatCopyConfig, dataset, on_progress) -> Outcome:
    del dataset  # the chat lessons read the plays, not MNIST
    started = time.perf_counter()
    teacher, facts = load_chat_teacher(config.teacher), teacher_facts(config.teacher)
    corpus = load_corpus()
    pool, held_out = exchanges(corpus.prompt_scenes), graded(corpus)
    picks = torch.Generator().manual_seed(config.seed)
    order = [i for _ in range(math.ceil(config.exchanges / len(pool))) for i in torch.randperm(len(pool), generator=picks).tolist()]
    human = [pool[i] for i in order]  # the prompts' own human replies first: the twin's lesson
    prompts = ([pair.prompt for pair in human[:config.exchanges]] if config.prompts == "plays"
               else made_up_prompts(config.exchanges, config.seed))

    api = ChatAPI(teacher, config.answers, config.temperature, config.top_p, config.reply_chars,
                  seed=config.seed + SAMPLE_SEED_OFFSET)
    answers: list[ChatAnswer] = []
    for first in range(0, len(prompts), 256):
        answers += api.ask(prompts[first:first + 256])
        on_progress(Progress(stage="asking the chat API", epoch=0.0, of=1, step=len(answers)))
    copier = copier_lesson(answers, config.answers)
    twin_data = twin_lesson(human, api.characters, config.reply_chars)
    epochs = config.epochs_for(api.characters)

    student, twin = starting_pair(config)
    for offset, (name, model, lesson) in enumerate((("copy", student, copier), ("scratch twin", twin, twin_data))):
        report = lambda epoch, name=name, offset=offset: on_progress(  # noqa: E731
            Progress(stage=f"training the {name}", epoch=offset * epochs + epoch, of=2 * epochs))
        train(model, lesson, epochs, config.seed, report, span=(offset * epochs, 2 * epochs))

    on_progress(Progress(stage="grading on held-out plays", epoch=2 * epochs, of=2 * epochs))
    copy_score = score(student, held_out, facts["logits"], config.temperature)
    twin_score = score(twin, held_out, facts["logits"], config.temperature)
    shown_prompts = [held_out[i * (len(held_out) // SHOWN_PROMPTS)] for i in range(SHOWN_PROMPTS)]
    samples = sample_replies({"teacher": teacher, "copy": student, "twin": twin},
                             [pair.prompt for pair in shown_prompts], config)
    for sample, pair in zip(samples, shown_prompts):
        sample["human"] = pair.reply
    result = ChatCopyResult(
        answers=config.answers, prompts=config.prompts, exchanges=api.exchanges, characters=api.characters,
        reply_chars=config.reply_chars, temperature=config.temperature, top_p=config.top_p,
        student=config.student, student_params=count_params(student), epochs=epochs,
        bits_per_char=copy_score["bits_per_char"], scratch_bits_per_char=twin_score["bits_per_char"],
        teacher_bits_per_char=facts["bits"],
        teacher_agreement=copy_score["teacher_agreement"], scratch_agreement=twin_score["teacher_agreement"],
        kl_to_teacher=copy_score["kl_to_teacher"], scratch_kl_to_teacher=twin_score["kl_to_teacher"],
        canary_exposure=canary_exposure(student), scratch_canary_exposure=canary_exposure(twin),
        teacher_canary_exposure=facts["exposure"], independent_canary_exposure=independent_exposure(),
        teacher_sure_share=facts["sure_share"], teacher_better_than_even_share=facts["even_share"],
        canary_replies=sum(CANARY_SECRET in a.reply for a in answers),
        samples=samples, seconds=round(time.perf_counter() - started, 2))
    return Outcome(result, None)
