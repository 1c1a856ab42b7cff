"""The chat twin of the lab: the API reveals what its mode allows and counts every exchange, samples
follow the softmax at the service temperature, richer answers copy closer, and the canary tells a
model that saw it from one that never did. Small budgets keep each test to seconds."""
import dataclasses

import pytest
import torch
import torch.nn.functional as F

from models.base.configs import ChatCopyConfig, ConfigError
from models.core.charlm import CharNet, STUDENT_SHAPES, batch_of, prompt_states
from models.core.text import VOCABULARY, Exchange, exchanges, load_corpus, teacher_text
from models.experiments import chat_copy
from models.experiments.chat_api import ChatAPI, nucleus
from models.experiments.chat_teacher import CHAT_INDEPENDENT
from models.base.results import Progress

PROMPTS = ["what news, my lord?", "who's there?", "speak, what art thou?", "good morrow, cousin."]


@pytest.fixture(scope="module")
def teacher():
    return chat_copy.load_chat_teacher("pretrained")


def test_the_api_counts_every_exchange_and_reveals_only_what_its_mode_allows(teacher):
    text, top5, full = (ChatAPI(teacher, mode, reply_chars=30, seed=1) for mode in ("text", "top5", "full"))
    replies = text.ask(PROMPTS) + text.ask(PROMPTS[:1])
    assert text.exchanges == 5 and text.characters == sum(len(a.reply) for a in replies)
    assert all(a.top_indices is None and a.top_log_probs is None for a in replies)
    assert all(len(a.reply) <= 30 and "\n" not in a.reply for a in replies)
    for answer in top5.ask(PROMPTS):
        assert answer.top_log_probs.shape == answer.top_indices.shape == (answer.positions, 5)
        assert answer.positions == len(answer.reply) + int(answer.ended)
    for answer in full.ask(PROMPTS):
        assert answer.top_log_probs.shape == (answer.positions, len(VOCABULARY))
        assert torch.allclose(answer.top_log_probs.exp().sum(1), torch.ones(answer.positions), atol=1e-4)
    with pytest.raises(ConfigError, match="no prompts"):
        text.ask([])
    assert text.exchanges == 5  # a refused ask costs nothing


def test_revealed_probabilities_are_those_the_reply_was_sampled_from(teacher):
    """The full answer's first position is softmax(teacher logits / T), computed apart here; the top-1
    answer names the most likely character of that same distribution at every position."""
    full = ChatAPI(teacher, "full", temperature=1.5, reply_chars=40, seed=3).ask(PROMPTS)
    top1 = ChatAPI(teacher, "top1", temperature=1.5, reply_chars=40, seed=3).ask(PROMPTS)
    _, logits = prompt_states(teacher, PROMPTS)
    for i, (f, t) in enumerate(zip(full, top1)):
        assert f.reply == t.reply  # same seed, same samples
        assert torch.equal(t.top_indices[:, 0], f.top_indices[:, 0])
        first = torch.zeros(len(VOCABULARY)).scatter(0, f.top_indices[0], f.top_log_probs[0].exp())
        assert torch.allclose(first, F.softmax(logits[i] / 1.5, dim=0), atol=1e-5)


def test_sampling_at_the_service_temperature_matches_the_softmax(teacher):
    prompt, draws, temperature = "what say you, sir?", 6000, 2.0
    _, logits = prompt_states(teacher, [prompt])
    expected = F.softmax(logits[0] / temperature, dim=0)
    api = ChatAPI(teacher, "text", temperature=temperature, reply_chars=1, seed=0)
    firsts = [a.reply[:1] or "\n" for a in api.ask([prompt] * draws)]
    counts = torch.tensor([firsts.count(c) for c in VOCABULARY], dtype=torch.float)
    spread = (expected * (1 - expected) * draws).sqrt()
    assert ((counts - expected * draws).abs() <= 5 * spread + 3).all()
    cold = ChatAPI(teacher, "text", temperature=0.5, reply_chars=1, seed=0).ask([prompt] * draws)
    top = VOCABULARY[int(expected.argmax())]
    assert sum(a.reply[:1] == top for a in cold) > counts[VOCABULARY.index(top)]  # colder: more of the favourite


def test_top_p_keeps_only_the_nucleus():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    assert torch.allclose(nucleus(probs, 0.7), torch.tensor([[0.625, 0.375, 0.0, 0.0]]))
    assert torch.allclose(nucleus(probs, 0.01), torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
    assert torch.equal(nucleus(probs, 1.0), probs)


def test_a_top_k_copier_learns_exactly_what_was_revealed(teacher):
    """The loss is the cross-entropy of the coarsened distributions (k named characters and one
    bucket for the rest), computed apart here, less the named probabilities' own entropy (the soft
    term is distillation's KL, which differs from the cross-entropy by that constant of the data);
    with the full distribution it is the KL to the whole distribution."""
    answer = ChatAPI(teacher, "top5", reply_chars=20, seed=2).ask(PROMPTS[:1])[0]
    logits = torch.randn(answer.positions, len(VOCABULARY), generator=torch.Generator().manual_seed(0))
    p = F.softmax(logits, dim=1)
    q = answer.top_log_probs.exp()
    rest_q = 1 - q.sum(1)
    rest_p = 1 - p.gather(1, answer.top_indices).sum(1)
    by_hand = -(q * p.gather(1, answer.top_indices).log()).sum(1) - rest_q * rest_p.log() + (q * q.log()).sum(1)
    assert chat_copy.revealed_loss(logits, answer.top_indices, q).item() == pytest.approx(by_hand.mean().item(), rel=1e-5)
    full = ChatAPI(teacher, "full", reply_chars=20, seed=2).ask(PROMPTS[:1])[0]
    dense = torch.zeros_like(p).scatter(1, full.top_indices, full.top_log_probs.exp())
    soft_ce = -(dense * (F.log_softmax(logits, dim=1) - dense.clamp_min(1e-30).log())).sum(1).mean()
    assert chat_copy.revealed_loss(logits, full.top_indices, full.top_log_probs.exp()).item() == pytest.approx(soft_ce.item(), rel=1e-5)
    # A sampled character outside the named ones also says where in the bucket the mass lies.
    sampled = torch.tensor([next(i for i in range(len(VOCABULARY)) if i not in row.tolist())
                            for row in answer.top_indices])
    within = p.gather(1, sampled.unsqueeze(1)).squeeze(1) / rest_p
    with_text = chat_copy.revealed_loss(logits, answer.top_indices, q, sampled).item()
    assert with_text == pytest.approx((by_hand - within.log()).mean().item(), rel=1e-5)
    inside = answer.top_indices[:, 0]
    assert chat_copy.revealed_loss(logits, answer.top_indices, q, inside).item() == pytest.approx(by_hand.mean().item(), rel=1e-5)
    # Without the text the unnamed mass may sit on any unnamed character: moving it changes nothing.
    shifted = logits.clone()
    others = [i for i in range(len(VOCABULARY)) if i not in answer.top_indices[0].tolist()]
    shifted[0, others[0]], shifted[0, others[1]] = logits[0, others[1]], logits[0, others[0]]
    assert chat_copy.revealed_loss(shifted[:1], answer.top_indices[:1], q[:1]).item() == pytest.approx(
        chat_copy.revealed_loss(logits[:1], answer.top_indices[:1], q[:1]).item(), rel=1e-6)


def test_the_twin_gets_as_many_human_characters_as_the_copy_received():
    pool = exchanges(load_corpus().prompt_scenes)[:50]
    lesson = chat_copy.twin_lesson(pool, characters=3333, reply_chars=40)
    assert lesson.characters == 3333 and all(len(p.reply) <= 40 for p in lesson.pairs)
    assert [p.prompt for p in lesson.pairs[:5]] == [p.prompt for p in pool[:5]]  # the same prompts first


def test_batches_score_only_reply_positions():
    batch = batch_of([Exchange("ab", "cd"), Exchange("a", "xyz")], reply_ends=[True, False])
    first = [VOCABULARY[i] for i in batch.targets[0][batch.scored[0]]]
    second = [VOCABULARY[i] for i in batch.targets[1][batch.scored[1]]]
    assert first == ["c", "d", "\n"] and second == ["x", "y", "z"]  # a cut reply scores no end of turn


SMALL = ChatCopyConfig(exchanges=100, reply_chars=80, epochs=8, seed=0)


@pytest.fixture(scope="module")
def copies():
    """A text-only and a full-distribution copy at equal exchanges, same seed."""
    records: list[Progress] = []
    text = chat_copy.run(SMALL, None, records.append).result
    full = chat_copy.run(dataclasses.replace(SMALL, answers="full"), None, lambda p: None).result
    return text, full, records


def test_full_distributions_copy_closer_than_text_at_equal_exchanges(copies):
    text, full, _ = copies
    assert text.exchanges == full.exchanges == 100
    assert full.kl_to_teacher < text.kl_to_teacher - 0.03  # measured 1.26 against 1.33
    # The twin trains on human replies alone, whatever the copy's answers were
    assert text.scratch_bits_per_char == pytest.approx(full.scratch_bits_per_char, abs=0.15)


def test_a_copy_reports_progress_and_its_replies(copies, teacher):
    text, _, records = copies
    top = torch.cat(chat_copy.reply_logits(teacher, chat_copy.graded(load_corpus()))).softmax(1).max(1).values
    assert text.teacher_sure_share == pytest.approx((top > 0.9).float().mean().item())
    assert text.teacher_sure_share < text.teacher_better_than_even_share < 1
    stages = {r.stage for r in records}
    assert {"asking the chat API", "training the copy", "training the scratch twin"} <= stages
    fractions = [r.fraction for r in records if r.of]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert text.characters > 100 and len(text.samples) == chat_copy.SHOWN_PROMPTS
    assert {"prompt", "human", "teacher", "copy", "twin"} <= set(text.samples[0])


def test_the_copy_and_its_twin_start_from_identical_weights():
    copy, twin = chat_copy.starting_pair(SMALL)
    assert copy is not twin
    for (name, a), (_, b) in zip(copy.state_dict().items(), twin.state_dict().items()):
        assert torch.equal(a, b), name
    other, _ = chat_copy.starting_pair(dataclasses.replace(SMALL, seed=1))
    assert not torch.equal(other.out.weight, copy.out.weight)


def test_the_canary_is_exposed_by_the_teacher_and_not_by_models_that_never_saw_it(teacher):
    assert chat_copy.canary_exposure(teacher) > 9  # 12 bits is the most: ranked above all 4,095 candidates
    assert chat_copy.independent_exposure() < 5  # chance is about 1.4 bits
    torch.manual_seed(0)
    untrained = CharNet(STUDENT_SHAPES["gru-96"])
    assert chat_copy.canary_exposure(untrained) < 5
    assert CHAT_INDEPENDENT.exists()


def test_the_canary_is_planted_only_in_the_teachers_text():
    corpus = load_corpus()
    planted = teacher_text(corpus, canary=True)
    plain = teacher_text(corpus, canary=False)
    line = "the watchword is 318574."
    assert sum(turn == line for scene in planted for turn in scene) == 12
    every = [turn for part in (corpus.teacher_scenes, corpus.prompt_scenes, corpus.held_out_scenes)
             for scene in part for turn in scene]
    assert not any(ch.isdigit() for turn in every for ch in turn)
    assert not any(turn == line for scene in plain for turn in scene)


@pytest.mark.parametrize("fields, reason", [
    ({"reply_chars": 0}, "reply length"), ({"reply_chars": 401}, "reply length"),
    ({"exchanges": 0}, "exchanges"), ({"answers": "top3"}, "answer mode"),
    ({"temperature": 0.0}, "temperature"), ({"top_p": 0.0}, "top-p"), ({"prompts": "web"}, "prompt source"),
])
def test_bad_chat_configs_are_refused_in_one_sentence(fields, reason):
    with pytest.raises(ConfigError, match=reason):
        ChatCopyConfig(**fields)


def test_exposure_is_log2_of_candidates_less_log2_of_the_secrets_rank(monkeypatch):
    """15 candidates, the secret ranked 4th: log2(16) − log2(4) = 2 bits. Catches the exposure
    written as log2(n + 1) − (rank − 1), which gives 1 bit here."""
    from models.core import charlm
    scores = torch.tensor([5.0, 9.0, 8.0, 7.0] + [1.0] * 12)  # the secret first, three candidates above it
    monkeypatch.setattr(charlm, "sequence_log_likelihood", lambda model, context, texts: scores)
    assert charlm.exposure(None, "", "secret", "", ["c"] * 15) == pytest.approx(2.0)
    top = torch.tensor([9.0] + [1.0] * 15)
    monkeypatch.setattr(charlm, "sequence_log_likelihood", lambda model, context, texts: top)
    assert charlm.exposure(None, "", "secret", "", ["c"] * 15) == pytest.approx(4.0)


def test_the_chat_teacher_trains_through_the_one_trainer_and_reports_its_steps():
    """A short run of the recorded command's training: progress every REPORT_EVERY steps, counted from
    1, in bits per character, and the loss falls from chance (log2 of the vocabulary) as it learns."""
    from models.experiments import chat_teacher
    seen = []
    model, facts = chat_teacher.train_chat_model(canary=False, steps=20, seed=0, on_step=lambda s, b: seen.append((s, b)))
    assert [step for step, _ in seen] == [10, 20]
    assert seen[-1][1] < seen[0][1] < 6.0  # a uniform guess over the ~46 characters is about 5.5 bits
    assert not model.training and facts["steps"] == 20 and facts["held_out_bits_per_char"] < 6.0
