"""Smart transformation plan (济源市推进工业智能化改造攻坚方案): counts and platform diffusion.

Model (parameters, sources and assumptions in ``model/data/params/smart.toml``):

* Every count target goes through the shared pipeline (:mod:`model.processes.pipeline`) with a
  closed pool of candidates: 两化融合 standard pilots, firms passing the management-system
  assessment, self-assessing firms, smart factory (workshop) and service-manufacturing
  demonstrations, and manufacturing-internet 双创 bases. Each has an uncertain pool, yearly
  application probability, approval probability and lag.
* The plan's rewards (levers, 三(一)-(六)) multiply a candidate's application odds by
  ``1 + reward_effect * w_t * R / 10万元`` (:func:`model.modules.counting.push_factor`), where
  ``R`` is the reward of the item (for provincial-or-higher awards the expected reward
  ``provincial + national_share * (national - provincial)``) and ``w_t`` the share of the year
  under the rewards (``reward_first_year`` in 2017, 1 later).
* The share ``F`` of key backbone manufacturers with an internet 双创 platform follows the Bass
  equation ``dF/dt = (p_t + q F)(1 - F)`` from its uncertain 2016 level ``F0`` (firms that already
  have a platform are imitated too), with innovation ``p_t = p * factor_t`` (the platform reward
  pushes ``p`` the same way as the odds above) and imitation ``q``. The count is lumpy: firm
  ``i`` of ``N`` has a platform at the end of year ``t`` when its uniform ``u_i < F(t)``, so the
  mean share is exactly ``F(t)``.

Common random numbers: the pipelines are called in a fixed order and each draws uniforms of a
shape set by ``n`` alone; the platform uniforms are ``(n, MAX_PLATFORM_FIRMS)``. Rewards only
raise probabilities compared with those uniforms, so a larger reward never lowers a count.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from model.links import NO_LINKS, Linked
from model.modules.bass import bass_advance
from model.modules.counting import (
    N_YEARS,
    candidate_item,
    expected_reward,
    push_factor,
    year_weights,
)

#: Reference reward of ``reward_effect`` [万元].
REWARD_REF = 10.0
#: Largest number of backbone manufacturers (width of the platform random array).
MAX_PLATFORM_FIRMS = 60


def platform_share(f0: np.ndarray, p: np.ndarray, q: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Bass share of backbone firms with a platform at each year end, smooth [share].

    Parameters
    ----------
    f0 : ndarray (n,)
        Share with a platform at the end of 2016 [share].
    p, q : ndarray (n,)
        Bass innovation (without the reward) and imitation [1/yr].
    factor : ndarray (n, len(YEARS))
        Multiplier on ``p`` in each year (the reward push; column 0 unused) [-].

    Returns
    -------
    ndarray (n, len(YEARS))
        ``F(t)`` solving ``dF/dt = (p factor_t + q F)(1 - F)`` year by year from ``F(2016) = f0``
        (``p`` constant within a year).
    """
    f = np.empty(factor.shape)
    f[:, 0] = f0
    for t in range(1, N_YEARS):
        f[:, t] = bass_advance(f[:, t - 1], 1.0, p * factor[:, t], q)
    return f


def lumpy_share(u: np.ndarray, firms: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Share of ``firms`` firms adopted when firm ``i`` adopts once ``u_i < share`` [share].

    Parameters
    ----------
    u : ndarray (n, MAX)
        Uniforms of the firms (only the first ``firms`` of a row count).
    firms : ndarray (n,)
        Number of firms, 1..MAX.
    share : ndarray (n, Y)
        Smooth adoption share [share].
    """
    firms = np.rint(firms).astype(int)
    used = np.arange(u.shape[1])[None, :] < firms[:, None]
    adopted = ((u[:, None, :] < share[:, :, None]) & used[:, None, :]).sum(axis=2)
    return adopted / firms[:, None]


def _platform_penetration(rng: np.random.Generator, draws: Mapping[str, np.ndarray],
                          factor: np.ndarray) -> np.ndarray:
    """Share of key backbone manufacturers with an internet 双创 platform [%], ``(n, years)``:
    the Bass share pushed by the platform reward (``factor``), counted firm by firm."""
    u = rng.random((factor.shape[0], MAX_PLATFORM_FIRMS))
    smooth = platform_share(np.asarray(draws["platform.initial_share"], float),
                            np.asarray(draws["platform.bass_p"], float),
                            np.asarray(draws["platform.bass_q"], float), factor)
    return 100.0 * lumpy_share(u, np.asarray(draws["platform.firms"], float), smooth)


def simulate(levers: Mapping[str, object], draws: Mapping[str, np.ndarray],
             rng: np.random.Generator, linked: Linked = NO_LINKS) -> dict[str, np.ndarray]:
    """Simulate the smart plan (see the module docstring).

    Parameters
    ----------
    levers : mapping
        Rewards [万元] as declared in ``smart.toml`` (``reward.iim_assessment``,
        ``reward.<item>.national`` / ``.provincial`` for smart_mfg, service_mfg, platform, base).
    draws : mapping
        Uncertainty name -> (n,) array, as declared in ``smart.toml``.
    rng : numpy.random.Generator
        Source of the pipelines' and the platform firms' random events.
    linked : Linked
        Unused (no link reaches this module).

    Returns
    -------
    dict
        Indicator name -> (n, len(YEARS)) array [count, %, 万元]; 2016 is the base year.
    """
    weights = year_weights(draws["reward_first_year"])
    effect = np.asarray(draws["reward_effect"], float)
    share = draws["national_share"]

    def reward(item: str) -> np.ndarray:
        return expected_reward(levers[f"reward.{item}.national"], levers[f"reward.{item}.provincial"], share)

    def push(amount) -> np.ndarray:
        return push_factor(weights, (effect, amount, REWARD_REF))

    def push_each(amount: np.ndarray) -> np.ndarray:  # per-replication amount (n,)
        return 1.0 + weights * (effect * amount / REWARD_REF)[:, None]

    pilots = candidate_item(rng, draws, "iim_pilots")
    certified = candidate_item(rng, draws, "iim_certified", push(levers["reward.iim_assessment"]))
    self_assessed = candidate_item(rng, draws, "self_assessment")
    r_smart, r_service, r_base = reward("smart_mfg"), reward("service_mfg"), reward("base")
    factories = candidate_item(rng, draws, "smart_factories", push_each(r_smart))
    service = candidate_item(rng, draws, "service_mfg", push_each(r_service))
    bases = candidate_item(rng, draws, "bases", push_each(r_base))

    penetration = _platform_penetration(rng, draws, push_each(reward("platform")))

    outlay = (certified.new * float(levers["reward.iim_assessment"]) + factories.new * r_smart[:, None]
              + service.new * r_service[:, None] + bases.new * r_base[:, None])
    return {
        "iim_pilots_new": pilots.new,
        "iim_pilots": pilots.cumulative,
        "iim_certified": certified.cumulative,
        "self_assessment": self_assessed.cumulative,
        "smart_factories_new": factories.new,
        "smart_factories": factories.cumulative,
        "service_mfg_demos_new": service.new,
        "service_mfg_demos": service.cumulative,
        "shuangchuang_bases": bases.cumulative,
        "platform_penetration": penetration,
        "reward_outlay": outlay,
    }
