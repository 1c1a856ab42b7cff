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

from models.base.configs import SOURCES, DetectorConfig
from models.core.data import Dataset
from models.experiments.queries import query_set
from models.base.results import CopierDetection, DetectorResult
from models.core.checkpoints import load_teacher
from models.core.training import predict_logits

UNSURE_BELOW = 0.9  # a query counts as "unsure" when the teacher's top probability is below this
ODD_POOL = 4000  # odd images per source, split between honest users and copiers
THRESHOLD_ACCOUNTS = 2000  # honest accounts the alarm threshold is set on (its 1 % tail is then 20 accounts)
# Real users differ: each honest account's share of odd images is drawn from a Beta distribution with
# the slider's value as its mean and this concentration (a + b): a standard deviation of about a third
# of the mean at 5 %, so some honest users send several times the typical share.
HONEST_CONCENTRATION = 10.0


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """95 % Wilson interval of a rate measured on `trials` accounts."""
    from scipy.stats import binomtest
    interval = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return interval.low, interval.high


def unsure_fraction(confidences: torch.Tensor) -> torch.Tensor:
    """(accounts, queries) teacher top-probabilities -> (accounts,) share of unsure answers."""
    return (confidences < UNSURE_BELOW).float().mean(1)


def halves(values: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint random halves: one pool for honest users, the other for copiers."""
    order = torch.randperm(len(values), generator=generator)
    middle = len(values) // 2
    return values[order[:middle]], values[order[middle:]]


def honest_odd_shares(mean: float, accounts: int, generator: torch.Generator) -> torch.Tensor:
    """(accounts,) each honest account's own share of odd images, Beta-distributed around `mean`."""
    if mean <= 0:
        return torch.zeros(accounts)
    if mean >= 1:
        return torch.ones(accounts)
    import numpy as np
    rng = np.random.default_rng(int(torch.randint(0, 2**31, (1,), generator=generator)))  # the run's own stream
    shares = rng.beta(HONEST_CONCENTRATION * mean, HONEST_CONCENTRATION * (1 - mean), size=accounts)
    return torch.from_numpy(shares).float()


def mixed_accounts(digits: torch.Tensor, odd: torch.Tensor, odd_share, accounts: int, per_account: int,
                   generator: torch.Generator) -> torch.Tensor:
    """(accounts,) unsure shares for accounts whose every question is an odd image with probability
    odd_share (one number, or one per account), else a real digit; pools hold the teacher's top
    probability per image."""
    from_digits = digits[torch.randint(0, len(digits), (accounts, per_account), generator=generator)]
    from_odd = odd[torch.randint(0, len(odd), (accounts, per_account), generator=generator)]
    share = torch.as_tensor(odd_share, dtype=torch.float32).reshape(-1, 1)
    is_odd = torch.rand(accounts, per_account, generator=generator) < share
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

    def honest_accounts(count: int) -> torch.Tensor:
        shares = honest_odd_shares(config.honest_odd_share, count, generator)
        return mixed_accounts(honest_digits, honest_odd, shares, count, config.queries_per_account, generator)

    threshold = float(torch.quantile(honest_accounts(THRESHOLD_ACCOUNTS), 1 - config.false_alarm_target))
    honest_fresh = honest_accounts(config.honest_accounts)
    false_alarms = int((honest_fresh > threshold).sum())
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
        honest_false_alarm_rate=false_alarms / len(honest_fresh),
        honest_false_alarm_ci=list(wilson(false_alarms, len(honest_fresh))), threshold_accounts=THRESHOLD_ACCOUNTS,
        honest_mean_unsure_fraction=honest_fresh.mean().item(), copiers=copiers, config=asdict(config))
