"""Distribution specs from scenario files, turned into scipy.stats objects and sampled.

A spec is a plain mapping read from TOML (see ``model/data/params/README.md``). Every
distribution is sampled by inverse transform of a uniform, ``x = F^-1(u)``, so that

* truncation is exact: ``u`` is mapped into ``[F(low), F(high)]`` before the inverse;
* correlations are a Gaussian copula: correlated standard normals ``z`` give ``u = Phi(z)``;
* two scenarios with the same seed share ``u`` for every uncertainty of the same name
  (common random numbers), whatever its distribution.

Nothing in a spec is evaluated: it is checked against :data:`SPEC_KEYS` and converted to
numbers only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from functools import cached_property
from typing import Any

import numpy as np
from scipy import special, stats

from .tomlfile import found, toml_text

#: Keys each distribution takes: (required, optional).
SPEC_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fixed": (("value",), ()),
    "uniform": (("low", "high"), ()),
    "triangular": (("low", "mode", "high"), ()),
    "pert": (("low", "mode", "high"), ()),
    "normal": (("mean", "sd"), ("low", "high")),
    "lognormal": (("median", "sigma"), ("low", "high")),
    "beta": (("alpha", "beta"), ("low", "high")),
    "poisson": (("mean",), ("low", "high")),
    "choice": (("values", "weights"), ()),
}


#: Distributions that take optional ``low``/``high`` truncation.
TRUNCATABLE = ("normal", "lognormal", "poisson")


class SpecError(ValueError):
    """A distribution spec is malformed; ``key`` names the offending field (or ``None``)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def _number(spec: Mapping[str, Any], key: str) -> float:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"expected a number, {found(value, 'number')}", key)
    if not math.isfinite(value):
        raise SpecError(f"expected a finite number, found {toml_text(value)}", key)
    return float(value)


@dataclass(frozen=True)
class Distribution:
    """A validated distribution: ``kind``, its numeric parameters and optional truncation."""

    kind: str
    params: tuple[tuple[str, Any], ...]

    @property
    def p(self) -> dict[str, Any]:
        return dict(self.params)

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: Any) -> Distribution:
        """Validate a spec (a number or a mapping with ``dist``) and build the distribution.

        Raises
        ------
        SpecError
            With the offending key and a message saying what is expected.
        """
        if isinstance(spec, bool):
            raise SpecError(f"expected a number or a distribution table, {found(spec)}")
        if isinstance(spec, (int, float)):
            if not math.isfinite(spec):
                raise SpecError(f"expected a finite number, found {toml_text(spec)}")
            spec = {"dist": "fixed", "value": spec}
        if not isinstance(spec, Mapping):
            raise SpecError(
                f"expected a number or a table like {{ dist = \"uniform\", low = 0, high = 1 }}, "
                f"{found(spec, 'number')}"
            )
        kind = spec.get("dist")
        if kind is not None and not isinstance(kind, str):
            raise SpecError(f"expected the name of a distribution in quotes, {found(kind)}", "dist")
        if kind is None:
            raise SpecError("missing 'dist' (one of " + ", ".join(SPEC_KEYS) + ")", "dist")
        if kind not in SPEC_KEYS:
            near = get_close_matches(str(kind), SPEC_KEYS, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise SpecError(
                f"unknown distribution {toml_text(kind)} (one of {', '.join(SPEC_KEYS)}){hint}", "dist"
            )
        required, optional = SPEC_KEYS[kind]
        for key in spec:
            if key != "dist" and key not in required + optional:
                near = get_close_matches(key, required + optional, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise SpecError(
                    f"'{kind}' takes {', '.join(required + optional)}, not '{key}'{hint}", key
                )
        for key in required:
            if key not in spec:
                raise SpecError(f"'{kind}' needs {', '.join(required)}; {key} is missing", key)
        if kind == "choice":
            params = _check_choice(spec)
        else:
            params = {k: _number(spec, k) for k in required + optional if k in spec}
            _check_numbers(kind, params)
        return cls(kind, tuple(sorted(params.items())))

    # -- scipy --------------------------------------------------------------------------------
    def frozen(self):
        """The scipy.stats frozen distribution before truncation (``None`` for fixed/choice)."""
        return self._frozen

    @cached_property
    def _frozen(self):
        # built once per Distribution: freezing a scipy distribution costs about a millisecond
        family = self.scipy_family()
        if family is None:
            return None
        law, shapes, loc, scale = family
        return law(*shapes, loc=loc) if scale is None else law(*shapes, loc=loc, scale=scale)

    def scipy_family(self) -> tuple[Any, tuple[float, ...], float, float] | None:
        """``(scipy law, shape parameters, loc, scale)`` of the distribution before truncation
        (``None`` for fixed/choice; ``scale`` is ``None`` for a discrete law): :meth:`frozen`
        is ``law(*shapes, loc=loc, scale=scale)``."""
        p = self.p
        if self.kind == "uniform":
            return stats.uniform, (), p["low"], p["high"] - p["low"]
        if self.kind == "triangular":
            width = p["high"] - p["low"]
            c = (p["mode"] - p["low"]) / width if width > 0 else 0.5
            return stats.triang, (c,), p["low"], width
        if self.kind == "pert":
            width = p["high"] - p["low"]
            a = 1 + 4 * (p["mode"] - p["low"]) / width
            b = 1 + 4 * (p["high"] - p["mode"]) / width
            return stats.beta, (a, b), p["low"], width
        if self.kind == "normal":
            return stats.norm, (), p["mean"], p["sd"]
        if self.kind == "lognormal":
            return stats.lognorm, (p["sigma"],), 0.0, p["median"]
        if self.kind == "beta":
            low, high = p.get("low", 0.0), p.get("high", 1.0)
            return stats.beta, (p["alpha"], p["beta"]), low, high - low
        if self.kind == "poisson":  # discrete: no scale
            return stats.poisson, (p["mean"],), 0, None
        return None

    def support(self) -> tuple[float, float]:
        """Smallest and largest value the distribution can give (after truncation)."""
        p = self.p
        if self.kind == "fixed":
            return p["value"], p["value"]
        if self.kind == "choice":
            return min(p["values"]), max(p["values"])
        if self.kind in TRUNCATABLE:
            base_low, base_high = self.frozen().support()
            return max(base_low, p.get("low", -math.inf)), min(base_high, p.get("high", math.inf))
        low, high = self.frozen().support()
        return float(low), float(high)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF applied to uniforms ``u`` in (0, 1); truncation applied here."""
        p = self.p
        if self.kind == "fixed":
            return np.full(u.shape, p["value"], dtype=float)
        if self.kind == "choice":
            values = np.asarray(p["values"], dtype=float)
            weights = np.asarray(p["weights"], dtype=float)
            cum = np.cumsum(weights / weights.max())  # scaled first: huge weights cannot overflow
            cum /= cum[-1]
            idx = np.searchsorted(cum, u, side="right")
            return values[np.minimum(idx, len(values) - 1)]
        if self.kind == "uniform":  # the commonest default: closed form, no scipy overhead
            return p["low"] + np.asarray(u, float) * (p["high"] - p["low"])
        dist = self.frozen()
        if self.kind in TRUNCATABLE and ("low" in p or "high" in p):
            lo, hi = self._cdf_bounds()
            x = dist.ppf(lo + u * (hi - lo))
            return np.clip(x, p.get("low", -np.inf), p.get("high", np.inf))
        return np.asarray(dist.ppf(u), dtype=float)

    def mean(self) -> float:
        """Mean after truncation (numerical where needed); used in tests and briefs."""
        p = self.p
        if self.kind == "fixed":
            return p["value"]
        if self.kind == "choice":
            w = np.asarray(p["weights"], float)
            w = w / w.max()
            return float(np.dot(w / w.sum(), p["values"]))
        if self.kind in TRUNCATABLE and ("low" in p or "high" in p):
            dist = self.frozen()
            lo, hi = p.get("low", -np.inf), p.get("high", np.inf)
            if self.kind == "poisson":
                k = np.arange(max(0, math.ceil(lo)), math.floor(min(hi, dist.ppf(1 - 1e-15))) + 1)
                pmf = dist.pmf(k)
                return float(np.dot(k, pmf) / pmf.sum())
            mass = dist.cdf(hi) - dist.cdf(lo)
            return float(dist.expect(lambda x: x, lb=lo, ub=hi) / mass)
        return float(self.frozen().mean())

    def _cdf_bounds(self) -> tuple[float, float]:
        """CDF values that bound the truncated range (for a discrete law, P(X < low) below)."""
        return self._bounds

    @cached_property
    def _bounds(self) -> tuple[float, float]:
        p, dist = self.p, self.frozen()
        below = p["low"] - 1 if self.kind == "poisson" and "low" in p else p.get("low")
        lo = float(dist.cdf(below)) if below is not None else 0.0
        hi = float(dist.cdf(p["high"])) if "high" in p else 1.0
        return lo, hi

    def describe(self) -> str:
        """Short human-readable form, e.g. ``triangular(0.02, 0.05, 0.09)``."""
        p = self.p
        if self.kind == "fixed":
            return f"{p['value']:g}"
        required, optional = SPEC_KEYS[self.kind]
        args = ", ".join(f"{k}={_fmt(p[k])}" for k in required + optional if k in p)
        return f"{self.kind}({args})"


def ppf_rows(dists: list[Distribution], u: np.ndarray) -> np.ndarray:
    """``Distribution.ppf`` of each row: row ``i`` of the result is ``dists[i].ppf(u[i])``.

    ``u`` is ``(len(dists), n)``. The values are the same, number for number: the rows of one
    law (scipy family, truncated or not) go through one scipy call with their parameters as
    columns (scipy's ``ppf`` works elementwise, and a frozen law's is the same call with scalar
    parameters), uniforms through their closed form, and fixed and choice laws row by row. One
    call per family instead of one per uncertainty saves scipy's per-call overhead (~50 us).
    """
    out = np.empty(u.shape, dtype=float)
    groups: dict[tuple, list[tuple[int, dict, tuple]]] = {}
    for i, dist in enumerate(dists):
        if dist.kind in ("fixed", "choice"):
            out[i] = dist.ppf(u[i])
            continue
        p, family = dist.p, dist.scipy_family()
        truncated = dist.kind in TRUNCATABLE and ("low" in p or "high" in p)
        groups.setdefault((dist.kind, family[0].name, truncated), []).append((i, p, family))
    for (kind, _, truncated), members in groups.items():
        rows = [i for i, _, _ in members]

        def column(values) -> np.ndarray:
            return np.array(list(values), dtype=float)[:, None]

        if kind == "uniform":  # Distribution.ppf's closed form
            low = column(p["low"] for _, p, _ in members)
            out[rows] = low + u[rows] * column(p["high"] - p["low"] for _, p, _ in members)
            continue
        q = u[rows]
        if truncated:
            bounds = [dists[i]._cdf_bounds() for i in rows]
            q = column(lo for lo, _ in bounds) + q * column(hi - lo for lo, hi in bounds)
        law, shapes, _, scale = members[0][2]
        args = [column(f[1][k] for _, _, f in members) for k in range(len(shapes))]
        loc = column(f[2] for _, _, f in members)
        if scale is None:
            x = law.ppf(q, *args, loc=loc)
        else:
            x = law.ppf(q, *args, loc=loc, scale=column(f[3] for _, _, f in members))
        if truncated:
            x = np.clip(x, column(p.get("low", -np.inf) for _, p, _ in members),
                        column(p.get("high", np.inf) for _, p, _ in members))
        out[rows] = x
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def _check_choice(spec: Mapping[str, Any]) -> dict[str, Any]:
    values, weights = spec["values"], spec["weights"]
    for key, seq in (("values", values), ("weights", weights)):
        if not isinstance(seq, list) or not seq:
            raise SpecError(f"expected a non-empty array of numbers, {found(seq)}", key)
        for x in seq:
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise SpecError(f"expected numbers, {found(x, 'number')}", key)
    if len(values) != len(weights):
        raise SpecError(
            f"'values' has {len(values)} entries but 'weights' has {len(weights)}", "weights"
        )
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise SpecError("weights must be >= 0 and not all 0", "weights")
    return {"values": tuple(float(v) for v in values), "weights": tuple(float(w) for w in weights)}


def _check_numbers(kind: str, p: dict[str, float]) -> None:
    def need(cond: bool, key: str, message: str) -> None:
        if not cond:
            raise SpecError(message, key)

    if "low" in p and "high" in p:
        need(math.isfinite(p["high"] - p["low"]), "high", "low and high are too far apart to compute with")
    if kind == "uniform":
        need(p["low"] < p["high"], "high", f"needs low < high, found low={p['low']:g} high={p['high']:g}")
    elif kind in ("triangular", "pert"):
        need(p["low"] < p["high"], "high", f"needs low < high, found low={p['low']:g} high={p['high']:g}")
        need(
            p["low"] <= p["mode"] <= p["high"],
            "mode",
            f"needs low <= mode <= high, found {p['low']:g} <= {p['mode']:g} <= {p['high']:g}",
        )
    elif kind == "normal":
        need(p["sd"] > 0, "sd", f"sd must be > 0, found {p['sd']:g}")
    elif kind == "lognormal":
        need(p["median"] > 0, "median", f"median must be > 0, found {p['median']:g}")
        need(p["sigma"] > 0, "sigma", f"sigma must be > 0, found {p['sigma']:g}")
        if "high" in p:
            need(p["high"] > 0, "high", f"a lognormal is positive; high must be > 0, found {p['high']:g}")
    elif kind == "beta":
        need(p["alpha"] > 0, "alpha", f"alpha must be > 0, found {p['alpha']:g}")
        need(p["beta"] > 0, "beta", f"beta must be > 0, found {p['beta']:g}")
        if "low" in p or "high" in p:
            low, high = p.get("low", 0.0), p.get("high", 1.0)
            need(low < high, "high", f"needs low < high, found low={low:g} high={high:g}")
        return
    elif kind == "poisson":
        need(p["mean"] >= 0, "mean", f"a Poisson mean must be >= 0, found {p['mean']:g}")
    if kind in TRUNCATABLE and "low" in p and "high" in p:
        need(
            p["low"] < p["high"],
            "low",
            f"truncation needs low < high, found low={p['low']:g} > high={p['high']:g}",
        )
    if kind in TRUNCATABLE and ("low" in p or "high" in p):
        lo, hi = Distribution(kind, tuple(sorted(p.items())))._cdf_bounds()
        need(hi - lo > 1e-12, "low", "the truncation bounds leave (almost) no probability mass")


def gaussian_copula_normals(z: np.ndarray, rank_corr: np.ndarray) -> np.ndarray:
    """Correlate independent standard normals ``z`` (k, n) for Spearman ranks ``rank_corr``.

    The Pearson correlation of the underlying normals that gives Spearman's rho_s is
    ``2 sin(pi rho_s / 6)``; the Cholesky factor of that matrix mixes the rows of ``z``.
    """
    pearson = 2.0 * np.sin(np.pi * rank_corr / 6.0)
    np.fill_diagonal(pearson, 1.0)
    chol = np.linalg.cholesky(pearson)
    return chol @ z


def is_positive_definite(rank_corr: np.ndarray) -> bool:
    """Whether the normal-scale matrix of a rank correlation matrix is positive definite."""
    pearson = 2.0 * np.sin(np.pi * rank_corr / 6.0)
    np.fill_diagonal(pearson, 1.0)
    try:
        np.linalg.cholesky(pearson)
    except np.linalg.LinAlgError:
        return False
    return True


def uniforms(z: np.ndarray) -> np.ndarray:
    """Standard normals to uniforms in (0, 1), clipped away from the ends."""
    return np.clip(special.ndtr(z), 1e-15, 1 - 1e-15)


def correlation_matrix(correlations) -> tuple[list[str], np.ndarray]:
    """Names involved in ``correlations`` and their rank-correlation matrix."""
    names = sorted({n for a, b, _ in correlations for n in (a, b)})
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for a, b, rho in correlations:
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
    return names, matrix
