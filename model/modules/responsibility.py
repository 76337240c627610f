"""The target-responsibility feedback (目标责任制, issue 10 item 2): effort rises when a city lags.

China's binding targets are split down to cities, assessed every year against the path the plan
sets, and enforced through accountability; a region that falls behind does more, and the last
year of a period carries a push, up to limiting production (the record of 2006-2015 in
``reference/outside-view.md``). The pieces here are shared by the modules that own a binding
target and step their years in order (``green``): the shortfall at an assessment, an effort that
rises with it within a bound and never falls back, and the production limit on the largest
energy users that would bring a year's intensity back to the path.
"""

from __future__ import annotations

import numpy as np


def shortfall(path: float | np.ndarray, achieved: np.ndarray) -> np.ndarray:
    """How far an indicator lags the plan's path at an assessment [its unit], 0 when on the path."""
    return np.maximum(np.asarray(path, float) - achieved, 0.0)


def raised_effort(previous: np.ndarray, lag: np.ndarray, strength: np.ndarray,
                  bound: np.ndarray) -> np.ndarray:
    """Next year's effort multiplier: ``max(previous, min(bound, 1 + strength * lag))``.

    Effort never falls during the plan (the responsibility system does not stand teams down
    while a target is open), never goes below 1 (no effort is withdrawn) and never above
    ``bound`` (staff, budget and enforcement capacity are finite).

    Parameters
    ----------
    previous : numpy.ndarray
        Effort in force this year [ratio], ``(n,)``, >= 1.
    lag : numpy.ndarray
        Shortfall at this year's assessment [points], ``(n,)``, >= 0.
    strength, bound : numpy.ndarray
        Effort added per point of shortfall [1/point] and the largest effort [ratio], ``(n,)``.
    """
    wanted = np.minimum(np.maximum(bound, 1.0), 1.0 + strength * lag)
    return np.maximum(previous, wanted)


def production_limit(limited: tuple[np.ndarray, np.ndarray], others: tuple[np.ndarray, np.ndarray],
                     goal: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Share of the limited sectors' output to hold back so that intensity meets ``goal``.

    Limiting production removes the limited plants' output and energy in proportion, so the
    year's intensity is ``(E_o + (1 - L) E_l) / (V_o + (1 - L) V_l)``; the ``L`` that makes it
    ``goal`` is ``1 - (goal V_o - E_o) / (E_l - goal V_l)``. No limit is needed where intensity
    is already at or below ``goal``; where the limited sectors are no more intensive than the
    goal, limiting them cannot help, and the limit is 0. The result is clipped to ``[0, bound]``.

    Parameters
    ----------
    limited, others : tuple of numpy.ndarray
        ``(energy, value_added)`` of the limited sectors and of the rest of industry, ``(n,)``.
    goal : numpy.ndarray
        Intensity to reach [same unit as energy / value added], ``(n,)``.
    bound : numpy.ndarray
        Largest share of the limited sectors' yearly output the city will hold back, ``(n,)``.

    Returns
    -------
    numpy.ndarray
        Limit ``L`` [share of the limited sectors' output], ``(n,)``.
    """
    e_l, v_l = limited
    e_o, v_o = others
    above = (e_l + e_o) > goal * (v_l + v_o)
    excess = e_l - goal * v_l  # > 0: the limited sectors are more intensive than the goal
    helps = excess > 0
    need = 1.0 - (goal * v_o - e_o) / np.where(helps, excess, 1.0)
    return np.where(above & helps, np.clip(need, 0.0, np.maximum(bound, 0.0)), 0.0)
