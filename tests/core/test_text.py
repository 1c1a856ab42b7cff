"""The chat corpus and the shipped chat models: what the plays become, how they are split, and the
shipped teacher's card telling the truth about it."""
import json

import pytest

from models.commands.chat_corpus import scenes_of
from models.base.configs import ConfigError
from models.core.charlm import load_charnet, score
from models.core.text import CORPUS_PATH, clean, exchanges, load_corpus, made_up_prompts
from models.base.errors import TeacherError
from models.experiments.chat_teacher import CHAT_INDEPENDENT, CHAT_TEACHER

PLAY = """ACT I. SCENE I. Elsinore.

[Enter Bernardo and Francisco.]

Ber.
Who's there?

Fran.
Nay, answer me: stand, and unfold yourself. [Aside.]
Long live the King--1603!

SCENE II. A room.

FIRST WITCH.
When shall we three meet again?

Second Witch.
When the "hurlyburly's" done.
"""


def test_a_play_becomes_scenes_of_clean_turns():
    assert scenes_of(PLAY) == [
        ["who's there?", "nay, answer me: stand, and unfold yourself. long live the king - !"],
        ["when shall we three meet again?", "when the 'hurlyburly's' done."],
    ]
    assert clean("  O, [Dies.] Horatio!  ") == "o, horatio!"


def test_the_corpus_splits_by_play_and_its_exchanges_pair_consecutive_turns():
    corpus = load_corpus()
    assert len(corpus.plays) == 18 and corpus.plays[-2:] == ("coriolanus", "merry wives of windsor")
    assert CORPUS_PATH.stat().st_size <= 2_000_000
    scene = corpus.held_out_scenes[0]
    pairs = exchanges([scene])
    assert len(pairs) == len(scene) - 1 and pairs[1].prompt == scene[1] and pairs[1].reply == scene[2]
    teacher_turns = {turn for s in corpus.teacher_scenes for turn in s if len(turn) > 60}
    held_turns = {turn for s in corpus.held_out_scenes for turn in s if len(turn) > 60}
    assert not teacher_turns & held_turns  # no long line is in both parts
    assert made_up_prompts(3, seed=1) == made_up_prompts(3, seed=1) != made_up_prompts(3, seed=2)


def test_a_corpus_with_too_few_plays_or_foreign_characters_is_refused(tmp_path):
    few = tmp_path / "few.txt"
    few.write_text("= one\nhello\nthere\n")
    with pytest.raises(ConfigError, match="holds 1 plays"):
        load_corpus(few)
    odd = tmp_path / "odd.txt"
    odd.write_text("".join(f"= play {i}\nhello\nthere\n\n" for i in range(5)) + "= last\nCAPITALS\nhi\n")
    with pytest.raises(ConfigError, match="outside the vocabulary"):
        load_corpus(odd)


def test_the_shipped_teacher_is_small_safe_to_load_and_its_card_is_true():
    assert CHAT_TEACHER.stat().st_size <= 5_000_000 and CHAT_INDEPENDENT.stat().st_size <= 5_000_000
    card = json.loads(CHAT_TEACHER.with_suffix(".json").read_text())
    assert card["canary"] == "the watchword is 318574." and card["command"].startswith("python -m models chat-teacher")
    measured = score(load_charnet(CHAT_TEACHER), exchanges(load_corpus().held_out_scenes))["bits_per_char"]
    assert measured == pytest.approx(card["held_out_bits_per_char"], abs=2e-3)
    assert json.loads(CHAT_INDEPENDENT.with_suffix(".json").read_text())["canary"] is None


def test_a_damaged_chat_model_is_one_sentence(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x80\x02garbage")
    with pytest.raises(TeacherError, match="unreadable"):
        load_charnet(bad)
    import torch
    torch.save({"vocabulary": "abc", "hidden": 4, "layers": 1, "embedding": 2, "state": {}}, bad)
    with pytest.raises(TeacherError, match="another alphabet"):
        load_charnet(bad)
    saved = torch.load(CHAT_TEACHER, weights_only=True)
    saved["state"]["out.bias"][0] = float("nan")
    torch.save(saved, bad)
    with pytest.raises(TeacherError, match="NaN"):
        load_charnet(bad)
