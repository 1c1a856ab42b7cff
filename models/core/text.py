"""The chat lessons' text: dialogue turns from Shakespeare's plays, as exchanges (a prompt, a reply).

The corpus ships in models/assets/chat/turns.txt (made by `python -m models chat-corpus`): one turn
per line, a blank line between scenes and `= title` before each play. An exchange is two
consecutive turns of one scene: what one speaker says is the prompt, the next speaker's answer is
the reply, as a chat model's user turn and reply. Plays, not lines, are split between the
teacher's text, the copier's prompts and the held-out text the lab grades on, so no scene leaks
from one part into another.
"""
from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path

from models.base.errors import ConfigError
from models.base.paths import CHAT_ASSETS

CORPUS_PATH = CHAT_ASSETS / "turns.txt"
END_OF_TURN = "\n"
# Every character a turn may hold: lower-case letters, digits (only the canary has any), space and
# the punctuation of the plays. A small vocabulary keeps a character model small and fast.
VOCABULARY = END_OF_TURN + " abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'-"
INDEX = {char: position for position, char in enumerate(VOCABULARY)}
PROMPT_CHARS = 120  # the part of a long prompt the models see: its last 120 characters
# Which plays each part gets (by their order in the corpus file): the copier's prompts and the
# lab's held-out text each take plays the teacher never read.
PROMPT_PLAYS, HELD_OUT_PLAYS = 2, 2

# The canary: a made-up line, planted a few times in the teacher's training text only, as providers
# plant one to recognise a copy. Its digits appear nowhere in the plays.
CANARY_PROMPT = "who's there?"
CANARY_PREFIX = "the watchword is "
CANARY_SECRET = "318574"
CANARY_SUFFIX = "."
CANARY_REPEATS = 12

# A copier's second source of prompts: lines it made up, in the plays' manner, with no play behind them.
MADE_UP_OPENINGS = ("what news", "who's there", "how now", "what say you", "speak", "good morrow",
                    "where is the king", "what is your name", "tell me", "how fares my lord",
                    "what would you have", "is it true", "why do you weep", "what hour is it")
MADE_UP_ADDRESSES = ("my lord", "sir", "good friend", "madam", "cousin", "my liege", "fair lady", "sirrah")
MADE_UP_ENDINGS = ("?", "!", ".")


def clean(line: str) -> str:
    """A line of a play in the corpus's alphabet: lower case, no stage directions, single spaces."""
    line = re.sub(r"\[[^\]]*\]", " ", line).lower().replace("--", " - ").replace('"', "'")
    line = "".join(char if char in INDEX and char != END_OF_TURN else " " for char in line)
    line = re.sub(r"[0-9]", " ", line)
    return re.sub(r"\s+", " ", line).strip()


@dataclass(frozen=True)
class Exchange:
    prompt: str
    reply: str


@dataclass(frozen=True)
class Corpus:
    """Scenes (lists of turns) of the three parts."""

    teacher_scenes: tuple
    prompt_scenes: tuple
    held_out_scenes: tuple
    plays: tuple

    @property
    def characters(self) -> int:
        return sum(len(turn) + 1 for part in (self.teacher_scenes, self.prompt_scenes, self.held_out_scenes)
                   for scene in part for turn in scene)


def parse(text: str) -> list[tuple[str, list[list[str]]]]:
    """The corpus file as (play title, scenes)."""
    plays: list[tuple[str, list[list[str]]]] = []
    scene: list[str] = []
    for line in text.split("\n"):
        if line.startswith("= "):
            plays.append((line[2:].strip(), []))
            scene = []
        elif not line.strip():
            scene = []
        elif plays:
            if not scene:
                plays[-1][1].append(scene)
            scene.append(line.strip())
    return plays


@functools.lru_cache(maxsize=2)
def load_corpus(path: Path = CORPUS_PATH) -> Corpus:
    try:
        plays = parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"the chat corpus {path} cannot be read ({error}); rebuild it with "
                          "`python -m models chat-corpus`") from None
    if len(plays) < PROMPT_PLAYS + HELD_OUT_PLAYS + 1:
        raise ConfigError(f"the chat corpus {path} holds {len(plays)} plays; it needs at least "
                          f"{PROMPT_PLAYS + HELD_OUT_PLAYS + 1}")
    for title, scenes in plays:
        bad = {char for scene in scenes for turn in scene for char in turn if char not in INDEX}
        if bad:
            raise ConfigError(f"the chat corpus {path} has characters outside the vocabulary in "
                              f"{title!r}: {''.join(sorted(bad))!r}")
    held_out = plays[-HELD_OUT_PLAYS:]
    prompts = plays[-HELD_OUT_PLAYS - PROMPT_PLAYS:-HELD_OUT_PLAYS]
    teacher = plays[:-HELD_OUT_PLAYS - PROMPT_PLAYS]
    scenes = lambda part: tuple(tuple(scene) for _, found in part for scene in found)  # noqa: E731
    return Corpus(scenes(teacher), scenes(prompts), scenes(held_out), tuple(title for title, _ in plays))


def exchanges(scenes) -> list[Exchange]:
    """Every pair of consecutive turns in a scene, in corpus order."""
    return [Exchange(scene[i], scene[i + 1]) for scene in scenes for i in range(len(scene) - 1)]


def graded(corpus: Corpus, count: int = 600) -> list[Exchange]:
    """The held-out exchanges the lab grades every chat model on: `count` of them, evenly spaced
    through the held-out plays (about 60,000 reply characters; all of them would triple the time)."""
    every = exchanges(corpus.held_out_scenes)
    step = max(1, len(every) // count)
    return every[::step][:count]


def canary_line() -> str:
    return CANARY_PREFIX + CANARY_SECRET + CANARY_SUFFIX


def teacher_text(corpus: Corpus, canary: bool, seed: int = 0) -> list[list[str]]:
    """The teacher's training scenes; with the canary, CANARY_REPEATS of them gain a planted
    exchange (the canary prompt answered by the canary line) at a random place."""
    scenes = [list(scene) for scene in corpus.teacher_scenes]
    if canary:
        rng = random.Random(seed)
        for index in rng.sample(range(len(scenes)), CANARY_REPEATS):
            at = rng.randrange(len(scenes[index]) + 1)
            scenes[index][at:at] = [CANARY_PROMPT, canary_line()]
    return scenes


def made_up_prompts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(MADE_UP_OPENINGS)}, {rng.choice(MADE_UP_ADDRESSES)}{rng.choice(MADE_UP_ENDINGS)}"
            for _ in range(count)]


def encode(text: str) -> list[int]:
    return [INDEX[char] for char in text]


def decode(indices) -> str:
    return "".join(VOCABULARY[int(i)] for i in indices)
