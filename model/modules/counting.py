"""Helpers shared by the count targets of the smart and innovation modules.

Every count item of those plans is declared in its params file as a group of uncertainties
``<item>.pool``, ``<item>.apply``, ``<item>.approve``, ``<item>.lag`` (closed pool of candidate
firms, :func:`model.processes.pipeline.candidate_pipeline`) or ``<item>.rate``,
``<item>.approve``, ``<item>.lag`` (open pool, :func:`model.processes.pipeline.open_pipeline`).
A plan's rewards and funds push the application probabilities (odds multiplied by a factor) or
the application rates (multiplied by the same factor): see :func:`push_factor`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model.processes.pipeline import PipelineCounts, candidate_pipeline, open_pipeline, raise_odds
from model.timeline import YEARS

N_YEARS = len(YEARS)


def year_weights(first_year: np.ndarray) -> np.ndarray:
    """Share of each year under the plan's measures, ``(n, len(YEARS))`` [0-1].

    Parameters
    ----------
    first_year : ndarray (n,)
        Share of 2017 in which the measures act (the notice is dated July 2017) [0-1].

    Returns
    -------
    ndarray (n, len(YEARS))
        0 in 2016, ``first_year`` in 2017, 1 from 2018 on.
    """
    first_year = np.asarray(first_year, float)
    w = np.ones((first_year.shape[0], N_YEARS))
    w[:, 0] = 0.0
    w[:, 1] = first_year
    return w


def yearly_amount(value: object) -> np.ndarray:
    """A lever as a ``(len(YEARS),)`` float array (a schedule stays, a scalar is broadcast)."""
    arr = np.asarray(value, float)
    return np.broadcast_to(arr, (N_YEARS,)).astype(float) if arr.ndim == 0 else arr.astype(float)


def push_factor(weights: np.ndarray, *pushes: tuple[np.ndarray, object, float]) -> np.ndarray:
    """Multiplier on application odds (or rates) from a plan's rewards and funds.

    Parameters
    ----------
    weights : ndarray (n, len(YEARS))
        Share of each year under the measures (:func:`year_weights`) [0-1].
    *pushes : tuple
        ``(effect, amount, reference)``: effect (n,) [-] per ``reference`` of the amount, the
        amount as a lever (scalar or yearly schedule, in the reference's unit), the reference
        (e.g. 10 for 10万元). Effects add: ``1 + w_t * sum(effect * amount_t / reference)``.

    Returns
    -------
    ndarray (n, len(YEARS))
        Factor ``>= 1`` for nonnegative effects and amounts; 1 where nothing is pushed.
    """
    total = np.zeros_like(weights)
    for effect, amount, reference in pushes:
        total += np.asarray(effect, float)[:, None] * (yearly_amount(amount)[None, :] / reference)
    return 1.0 + weights * total


def expected_reward(national: float, provincial: float, national_share: np.ndarray) -> np.ndarray:
    """Expected reward of a provincial-or-higher award [万元], (n,).

    ``provincial + national_share * (national - provincial)``: the share of awards that are
    national is uncertain; nondecreasing in both reward levers.
    """
    s = np.asarray(national_share, float)
    return (1.0 - s) * float(provincial) + s * float(national)


def as_lag(x: np.ndarray) -> np.ndarray:
    """A lag draw as whole years [yr], (n,) int."""
    return np.rint(np.asarray(x, float)).astype(int)


def candidate_item(rng: np.random.Generator, draws: Mapping[str, np.ndarray], item: str,
                   factor: np.ndarray | float = 1.0, **kwargs) -> PipelineCounts:
    """Closed-pool pipeline of ``item`` from its declared draws, application odds x ``factor``.

    ``kwargs`` go to :func:`candidate_pipeline` (``initial``, ``validity``, ``renewal_prob``,
    ``inflow``).
    """
    apply = np.asarray(draws[f"{item}.apply"], float)
    apply = np.broadcast_to(raise_odds(apply[:, None], factor), (apply.shape[0], N_YEARS))
    return candidate_pipeline(
        rng, pool=draws[f"{item}.pool"], apply_prob=apply,
        approve_prob=draws[f"{item}.approve"], lag=as_lag(draws[f"{item}.lag"]), **kwargs)


def open_item(rng: np.random.Generator, draws: Mapping[str, np.ndarray], item: str,
              factor: np.ndarray | float = 1.0, initial: np.ndarray | float = 0.0) -> PipelineCounts:
    """Open-pool pipeline of ``item`` from its declared draws, application rate x ``factor``."""
    rate = np.asarray(draws[f"{item}.rate"], float)
    return open_pipeline(
        rng, rate=rate[:, None] * np.broadcast_to(factor, (rate.shape[0], N_YEARS)),
        approve_prob=draws[f"{item}.approve"], lag=as_lag(draws[f"{item}.lag"]), initial=initial)
