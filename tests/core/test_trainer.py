"""The one trainer: models, batch sources and losses plug in; it knows nothing of digits or text."""
import pytest
import torch
from torch import nn

from models.base.errors import ConfigError
from models.core import trainer
from models.core.stopping import checked_between_steps


class Numbered:
    """A toy batch source: each batch is the tensor of example numbers it holds."""

    def __init__(self, count: int, size: int):
        self.count, self.size = count, size

    def steps_per_epoch(self) -> int:
        return -(-self.count // self.size)

    def epoch(self, generator):
        yield from torch.randperm(self.count, generator=generator).split(self.size)


def _recording_loss(seen: list):
    def loss(model, batch):
        seen.append(batch.tolist())
        return model(batch.float().unsqueeze(1)).pow(2).mean()
    return loss


def test_every_model_sees_the_same_batches_in_the_same_order_and_learns():
    torch.manual_seed(0)
    models = {"a": nn.Linear(1, 1), "b": nn.Linear(1, 1)}
    before = {n: m.weight.item() for n, m in models.items()}
    seen = {"a": [], "b": []}
    trainer.train(models, {n: _recording_loss(seen[n]) for n in models}, Numbered(10, 4),
                  trainer.FitSettings(epochs=2, learning_rate=0.1, seed=3))
    assert seen["a"] == seen["b"] and len(seen["a"]) == 6  # 3 batches an epoch, 2 epochs
    assert sorted(sum(seen["a"][:3], [])) == list(range(10))  # an epoch covers every example once
    assert seen["a"][:3] != seen["a"][3:]  # each epoch draws a new order
    assert all(models[n].weight.item() != before[n] for n in models)


def test_the_batch_order_comes_from_the_seed_alone():
    def order(seed):
        seen = []
        trainer.train({"m": nn.Linear(1, 1)}, {"m": _recording_loss(seen)}, Numbered(10, 4),
                      trainer.FitSettings(epochs=1, seed=seed))
        return seen
    assert order(5) == order(5) and order(5) != order(6)


def test_the_gradient_is_clipped_when_asked(monkeypatch):
    norms = []
    real = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda params, most: norms.append(most) or real(params, most))
    settings = trainer.FitSettings(epochs=1, seed=0)
    trainer.train({"m": nn.Linear(1, 1)}, {"m": _recording_loss([])}, Numbered(8, 4), settings)
    assert norms == []
    trainer.train({"m": nn.Linear(1, 1)}, {"m": _recording_loss([])}, Numbered(8, 4),
                  trainer.FitSettings(epochs=1, seed=0, clip_norm=0.5))
    assert norms == [0.5, 0.5]


def test_progress_and_cancel_checks_hear_the_position_in_the_whole_run():
    positions, steps = [], []
    with checked_between_steps(positions.append):
        trainer.train({"m": nn.Linear(1, 1)}, {"m": _recording_loss([])}, Numbered(8, 4),
                      trainer.FitSettings(epochs=2, seed=0), on_step=lambda done, losses: steps.append(done),
                      report_every=1, span=(2.0, 4))
    assert positions == [(2.5, 4), (3.0, 4), (3.5, 4), (4.0, 4)]  # the second half of a run of 4 epochs
    assert steps == [0.5, 1.0, 1.5, 2.0]


def test_a_cancel_raised_between_steps_stops_training():
    class Cancelled(Exception):
        pass

    def cancel(position):
        raise Cancelled

    seen = []
    with checked_between_steps(cancel), pytest.raises(Cancelled):
        trainer.train({"m": nn.Linear(1, 1)}, {"m": _recording_loss(seen)}, Numbered(8, 4), trainer.FitSettings(epochs=5))
    assert len(seen) == 1


def test_bad_settings_get_one_sentence():
    with pytest.raises(ConfigError, match="schedule"):
        trainer.FitSettings(epochs=1, schedule="warp")
    with pytest.raises(ConfigError, match="clip"):
        trainer.FitSettings(epochs=1, clip_norm=0)
