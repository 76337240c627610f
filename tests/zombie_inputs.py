"""Inputs and checks shared by the zombie-queue tests (test_zombie, test_responsibility_zombies):
the module's declared defaults, per-firm parameters that make every feature bite, hand-built
queues with known outcomes, and the comparison of two runs' times."""

import numpy as np

from model.params import module_params
from model.processes import zombie
from model.timeline import YEARS

DECLARED = module_params("overcapacity")


def default_draws(n, seed):
    """Uncertainties sampled independently from the defaults declared in overcapacity.toml."""
    rng = np.random.default_rng(seed)
    return {name: spec.default.ppf(rng.random(n)) for name, spec in DECLARED.uncertainties.items()}


def default_levers(**changes):
    out = {}
    for name, spec in DECLARED.levers.items():
        value = spec.default
        if spec.schedule:  # the file gives the whole schedule; the engine passes an array
            value = np.array([value[str(y)] for y in YEARS], float) if isinstance(value, dict) \
                else np.full(len(YEARS), float(value))
        out[name] = value
    out.update(changes)
    return out


def firm_params(n, rng):
    """Per-firm parameters that make every feature bite (short scale, small fund in tests)."""
    def u(lo, hi):
        return rng.uniform(lo, hi, n)
    return zombie.FirmParams(
        share_shell=u(0.05, 0.3), share_court=u(0.3, 0.6), share_merger=u(0.3, 0.8),
        share_fund=u(0.4, 0.9), prep_median=u(0.2, 0.5), prep_median_shell=u(0.05, 0.15),
        shell_median=u(0.1, 0.3), debt_median=u(0.3, 0.7), merger_median=u(0.5, 1.0),
        court_median=u(0.8, 2.0), spread=np.full(n, 0.5), cost_median=u(100, 400),
        cost_spread=np.full(n, 1.0))


def assert_same_times(a, b):
    for field in ("team_done", "funded", "done"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=0, atol=1e-9,
                                   equal_nan=True, err_msg=field)


def queue_inputs(seed: int, work_order: str, n: int = 40):
    """Random queues of ``n`` replications (0-49 firms, the first empty), plans in early 2018:
    the generator (to draw more from), the plans' dates and the inputs."""
    rng = np.random.default_rng(seed)
    count = rng.integers(0, 50, n)
    count[0] = 0  # an empty replication
    start = 2018.0 + rng.uniform(-0.1, 0.3, n)
    return rng, start, zombie.draw_inputs(rng, count, start, firm_params(n, rng), work_order)


def fund_wait_inputs() -> zombie.ZombieInputs:
    """Three bankruptcies A, B, C (team time 0.3, 0.1, 0.2 yr; court 0.5, 0.2, 0.1 yr), each
    costing 100, one replication: with an empty fund they all wait for the top-up of t = 1."""
    def one(a):
        return np.array([a], float)
    return zombie.ZombieInputs(
        np.array([3]), one([0.0, 0.0, 0.0]), np.array([[3, 3, 3]]), one([0.3, 0.1, 0.2]),
        one([0.0, 0.0, 0.0]), one([0.5, 0.2, 0.1]), one([100.0, 100.0, 100.0]),
        np.array([[0, 1, 2]]))


def court_reorder_inputs() -> zombie.ZombieInputs:
    """Three firms, one replication: X (shell, long preparation), S (court 0.1 yr) and L (court
    5 yr), work order X, S, L, all arriving at 0: the case where more preparation capacity lets
    the long court case L take the only court slot before the short one S."""
    def one(a):
        return np.array([a], float)
    return zombie.ZombieInputs(
        np.array([3]), one([0.0, 0.0, 0.0]), np.array([[0, 3, 3]]), one([1.0, 0.5, 0.3]),
        one([0.1, 0.0, 0.0]), one([0.0, 0.1, 5.0]), one([0.0, 0.0, 0.0]), np.array([[0, 1, 2]]))
