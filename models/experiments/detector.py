"""A simple copier detector: flag accounts whose questions leave the teacher unusually unsure.

Honest users mostly ask about real digits, which the teacher answers with near certainty; some
send odd images (a photo, a doodle). A copier exploring with other images (clothing, scribbles,
noise) makes the teacher hesitate far more often, unless it mixes real digits in. To keep the deck
unstacked, honest users and copiers draw from *disjoint* held-out pools: the test digits split in
two halves, the odd images likewise, and neither touches the training images. The alarm threshold
is set on one group of simulated honest accounts (to a target false-alarm rate) and judged on
fresh honest accounts and on copiers; the ROC curve shows every other threshold. A copier who asks
only real digits looks exactly like an honest user: no threshold on this score can see it.
"""
from __future__ import annotations

from dataclasses import asdict

import torch

from models.config import SOURCES, DetectorConfig
from models.core.data import Dataset
from models.experiments.queries import query_set
from models.results import CopierDetection, DetectorResult
from models.core.checkpoints import load_teacher
from models.core.training import predict_logits

UNSURE_BELOW = 0.9  # a query counts as "unsure" when the teacher's top probability is below this
ODD_POOL = 4000  # odd images per source, split between honest users and copiers


def unsure_fraction(confidences: torch.Tensor) -> torch.Tensor:
    """(accounts, queries) teacher top-probabilities -> (accounts,) share of unsure answers."""
    return (confidences < UNSURE_BELOW).float().mean(1)


def halves(values: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint random halves: one pool for honest users, the other for copiers."""
    order = torch.randperm(len(values), generator=generator)
    middle = len(values) // 2
    return values[order[:middle]], values[order[middle:]]


def mixed_accounts(digits: torch.Tensor, odd: torch.Tensor, odd_share: float, accounts: int, per_account: int,
                   generator: torch.Generator) -> torch.Tensor:
    """(accounts,) unsure shares for accounts whose every question is an odd image with probability
    odd_share, else a real digit; pools hold the teacher's top probability per image."""
    from_digits = digits[torch.randint(0, len(digits), (accounts, per_account), generator=generator)]
    from_odd = odd[torch.randint(0, len(odd), (accounts, per_account), generator=generator)]
    is_odd = torch.rand(accounts, per_account, generator=generator) < odd_share
    return unsure_fraction(torch.where(is_odd, from_odd, from_digits))


def roc_curve(honest: torch.Tensor, copiers: torch.Tensor) -> tuple[list[list[float]], float]:
    """Every threshold's (false-alarm rate, catch rate), strictest first, and the area under it
    (the chance a copier's account scores above an honest one's, ties counting half)."""
    thresholds = torch.cat([torch.tensor([float("inf")]), torch.unique(torch.cat([honest, copiers])).flip(0)])
    points = [[(honest >= t).float().mean().item(), (copiers >= t).float().mean().item()] for t in thresholds]
    above = (copiers[:, None] > honest[None, :]).float().mean().item()
    ties = (copiers[:, None] == honest[None, :]).float().mean().item()
    return points + [[1.0, 1.0]], above + 0.5 * ties


def run_detector(config: DetectorConfig, dataset: Dataset) -> DetectorResult:
    teacher = load_teacher(config.teacher)
    generator = torch.Generator().manual_seed(config.seed)

    def confidence(images: torch.Tensor) -> torch.Tensor:
        return predict_logits(teacher, images).softmax(1).max(1).values

    honest_digits, copier_digits = halves(confidence(dataset.test_x), generator)
    odd = {source: halves(confidence(query_set(source, ODD_POOL, config.seed + 1, dataset).images), generator)
           for source in SOURCES if source != "mnist"}
    honest_odd = torch.cat([pools[0] for pools in odd.values()])  # a photo, a doodle or a blank: any odd image

    def honest_accounts() -> torch.Tensor:
        return mixed_accounts(honest_digits, honest_odd, config.honest_odd_share, config.honest_accounts,
                              config.queries_per_account, generator)

    threshold = float(torch.quantile(honest_accounts(), 1 - config.false_alarm_target))
    honest_fresh = honest_accounts()
    copiers = {}
    for source in SOURCES:
        if source == "mnist":  # real digits only: the copier this detector cannot see
            stats = mixed_accounts(copier_digits, copier_digits, 0.0, config.copier_accounts,
                                   config.queries_per_account, generator)
            name, notice = "real handwritten digits (a held-out half of the test set)", ""
        else:
            stats = mixed_accounts(copier_digits, odd[source][1], 1 - config.copier_real_share,
                                   config.copier_accounts, config.queries_per_account, generator)
            queries = query_set(source, 1, config.seed + 1, dataset)
            name, notice = queries.name, queries.notice
        roc, auc = roc_curve(honest_fresh, stats)
        copiers[source] = CopierDetection(detection_rate=(stats > threshold).float().mean().item(),
                                          mean_unsure_fraction=stats.mean().item(), source_name=name,
                                          source_notice=notice, roc=roc, auc=auc)
    return DetectorResult(
        threshold_unsure_fraction=threshold, unsure_below=UNSURE_BELOW,
        honest_false_alarm_rate=(honest_fresh > threshold).float().mean().item(),
        honest_mean_unsure_fraction=honest_fresh.mean().item(), copiers=copiers, config=asdict(config))
