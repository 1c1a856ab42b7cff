"""A simple copier detector: flag accounts whose questions leave the teacher unusually unsure.

Honest users ask about real digits, which the teacher answers with near certainty. A copier
exploring with other images (clothing, scribbles, noise) makes it hesitate far more often. The
alarm threshold is set on one group of simulated honest accounts (to a target false-alarm rate)
and then judged on fresh honest accounts and on copiers. A copier who asks with real digits looks
honest: this detector cannot see it, which is why real providers also watch volume and metadata.
"""
from __future__ import annotations

from dataclasses import asdict

import torch

from models.config import SOURCES, DetectorConfig
from models.data import Dataset
from models.queries import query_set
from models.results import CopierDetection, DetectorResult
from models.teacher import load_teacher
from models.training import predict_logits

UNSURE_BELOW = 0.9  # a query counts as "unsure" when the teacher's top probability is below this


def unsure_fraction(confidences: torch.Tensor) -> torch.Tensor:
    """(accounts, queries) teacher top-probabilities -> (accounts,) share of unsure answers."""
    return (confidences < UNSURE_BELOW).float().mean(1)


def _accounts(pool_confidence: torch.Tensor, accounts: int, per_account: int, generator) -> torch.Tensor:
    picks = torch.randint(0, len(pool_confidence), (accounts, per_account), generator=generator)
    return unsure_fraction(pool_confidence[picks])


def run_detector(config: DetectorConfig, dataset: Dataset) -> DetectorResult:
    teacher = load_teacher(config.teacher)
    generator = torch.Generator().manual_seed(config.seed)

    def confidence(images: torch.Tensor) -> torch.Tensor:
        return predict_logits(teacher, images).softmax(1).max(1).values

    honest_pool = confidence(dataset.test_x)  # honest users: real digits the copier never used
    honest_calibration = _accounts(honest_pool, config.honest_accounts, config.queries_per_account, generator)
    threshold = float(torch.quantile(honest_calibration, 1 - config.false_alarm_target))
    honest_fresh = _accounts(honest_pool, config.honest_accounts, config.queries_per_account, generator)
    copiers = {}
    for source in SOURCES:
        pool_size = min(dataset.train_size, 5000)
        queries = query_set(source, pool_size, config.seed + 1, dataset)
        stats = _accounts(confidence(queries.images), config.copier_accounts, config.queries_per_account, generator)
        copiers[source] = CopierDetection(detection_rate=(stats > threshold).float().mean().item(),
                                          mean_unsure_fraction=stats.mean().item(), source_name=queries.name,
                                          source_notice=queries.notice)
    return DetectorResult(
        threshold_unsure_fraction=threshold, unsure_below=UNSURE_BELOW,
        honest_false_alarm_rate=(honest_fresh > threshold).float().mean().item(),
        honest_mean_unsure_fraction=honest_fresh.mean().item(), copiers=copiers, config=asdict(config))
