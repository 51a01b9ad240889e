"""The three-level engine against metafor 3.8-1 and clubSandwich 0.5.8, case by case.

The cases (``tests/fixtures/metafor/multilevel.json``, made by ``make_multilevel.R``) are
``rma.mv(yi, V, mods, random = ~ 1 | cluster/es_id)`` on ``dat.konstantopoulos2011``,
``dat.assink2016`` and random sets, with ``robust()`` (CR1), ``robust(clubSandwich = TRUE)``
(CR2) and, for some, ``confint()`` (profile likelihood).

Tolerances: relative 1e-6 for everything an optimiser touches (σ², coefficients, SEs, CIs,
log-likelihoods, I², profile bounds, robust SEs and dfs), with these exceptions, each checked:

* σ² where metafor's optimum is not determined to 1e-6. metafor maximises with value-only
  optimisers (nlminb with finite-difference gradients; the fixtures polish its answer with nlm
  at gradtol 1e-12), so where the likelihood is flat their answer is only good to a few 1e-6:
  the log-likelihood noise (about 1e-11, more with an un-centred moderator such as a year)
  allows that much. This engine uses analytic derivatives and stops at 1e-12. Such σ² must be
  within 1e-5 *and* metafor's point must be the worse optimum: its (restricted) log-likelihood,
  computed here, may not exceed ours. ``MAX_FLAT`` bounds how many cases need this.
* σ² at the boundary: metafor's log-scale search stops near 1e-10 instead of 0, so it is
  compared absolutely (``ATOL_SIGMA2``), as are the I² of such a level (``ATOL_I2``, percent).
  I² per level inherits the tolerance of the σ² it is made of.
* p-values of large statistics: d log p / d log z is about -(z² + 1), so a p-value is held to
  1e-6·max(1, z²) relative (1e-12 absolute for p below that).

Q, which involves no optimisation, is compared at 1e-10.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthesis.stats import StatsInputError
from synthesis.stats.metareg import moderator_design
from synthesis.stats.multilevel import multilevel_confint, multilevel_fit
from synthesis.stats.robust import robust

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "metafor" / "multilevel.json"

RTOL = 1e-6
RTOL_FLAT = 1e-5
MAX_FLAT = 3
RTOL_CLOSED = 1e-10
ATOL_SIGMA2 = 1e-8
ATOL_I2 = 1e-6
ATOL_P = 1e-12
EXPECTED_CASES = 35


@cache
def load() -> tuple[dict[str, Any], ...]:
    with FIXTURE.open() as fh:
        return tuple(json.load(fh))


CASES = list(load())


def _ids(cases):
    return [c["name"] for c in cases]


def close(got, exp, what, *, rtol=RTOL, atol=0.0):
    got = np.atleast_1d(np.asarray(got, dtype=float))
    exp = np.atleast_1d(np.asarray([np.nan if x is None else x for x in np.atleast_1d(exp)],
                                   dtype=float))  # fmt: skip
    assert got.shape == exp.shape, f"{what}: shape {got.shape} != {exp.shape}"
    np.testing.assert_allclose(got, exp, rtol=rtol, atol=atol, err_msg=what, equal_nan=True)


@cache
def fitted(name: str):
    case = next(c for c in CASES if c["name"] == name)
    inp, call = case["inputs"], case["call"]
    mods = moderator_design(inp["mods"]) if inp["mods"] else None
    return multilevel_fit(
        inp["yi"],
        inp["vi"],
        cluster=inp["cluster"],
        es_id=inp["es_id"],
        rho=inp["rho"],
        mods=mods,
        method=call["method"],
        test=call["test"],
    )


def _boundary(case) -> list[bool]:
    return [s < 1e-6 for s in case["expected"]["sigma2"]]


def close_p(got, exp, z, what):
    """p-values: relative 1e-6·max(1, z²) (see the module docstring)."""
    for g, e, zz in zip(np.atleast_1d(got), np.atleast_1d(exp), np.atleast_1d(z), strict=True):
        close(g, e, what, rtol=RTOL * max(1.0, float(zz) ** 2), atol=ATOL_P)


def check_sigma2(case, fit) -> bool:
    """σ² as the module docstring says; True if metafor's optimum was not determined to 1e-6."""
    e = case["expected"]
    flat = False
    for j, at_zero in enumerate(_boundary(case)):
        got, exp = fit.sigma2[j], e["sigma2"][j]
        if at_zero:
            close(got, exp, f"sigma2.{j + 1} (boundary)", rtol=0, atol=ATOL_SIGMA2)
        elif abs(got - exp) > RTOL * abs(exp):
            close(got, exp, f"sigma2.{j + 1} (flat)", rtol=RTOL_FLAT)
            flat = True
    if flat:
        model, reml = fit._model, fit.method == "REML"
        theirs = model.evaluate(np.array(e["sigma2"]), reml, derivatives=False).ll
        assert theirs <= fit.ll + 1e-12 * abs(fit.ll), "metafor's optimum is the better one"
    return flat


def test_the_reference_grid_is_complete():
    assert len(CASES) == EXPECTED_CASES
    assert len({c["name"] for c in CASES}) == EXPECTED_CASES
    sources = Counter(c["source"].split(" ")[0] for c in CASES)
    assert sources["metadat::dat.konstantopoulos2011"] == 7
    assert sources["metadat::dat.assink2016"] == 9
    assert sources["synthetic"] == 19
    assert sum(c["inputs"]["rho"] is not None for c in CASES) == 12  # CHE working models
    assert sum(bool(c["inputs"]["mods"]) for c in CASES) == 12
    assert sum("confint" in c["expected"] for c in CASES) == 10
    assert sum(any(_boundary(c)) for c in CASES) == 5
    assert Counter(c["call"]["method"] for c in CASES) == {"REML": 27, "ML": 8}
    # metafor's default fit polished with nlm, except at the boundary, where nlm (on log σ²)
    # ends lower than nlminb's default and the default is kept.
    controls = {c["name"]: c["call"]["control"] for c in CASES}
    assert Counter(controls.values()) == {"nlm polish": 30, "default": 5}
    assert all(controls[c["name"]] == "default" for c in CASES if any(_boundary(c)))


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_the_fit_matches_rma_mv(case):
    fit = fitted(case["name"])
    e = case["expected"]
    assert (fit.k, fit.p, fit.n_clusters) == (e["k"], e["p"], e["n_clusters"])
    assert list(e["s.nlevels"]) == [fit.n_clusters, fit.k]
    flat = check_sigma2(case, fit)
    close(fit.b, e["b"], "b")
    close(fit.se, e["se"], "se")
    close(fit.zval, e["zval"], "zval")
    close_p(fit.pval, e["pval"], e["zval"], "pval")
    close(fit.ci_lb, e["ci.lb"], "ci.lb")
    close(fit.ci_ub, e["ci.ub"], "ci.ub")
    if case["call"]["test"] == "t":
        assert fit.dist == "t" and [fit.df] * fit.p == e["ddf"]
    else:
        assert fit.dist == "norm" and fit.df is None
    if e["QE"] is None:
        assert fit.qe is None and fit.qep is None
    else:
        close(fit.qe, e["QE"], "QE", rtol=RTOL_CLOSED)
        close(fit.qep, e["QEp"], "QEp", rtol=RTOL_CLOSED, atol=ATOL_P)
    assert fit.qe_df == e["QE.df"]
    close(fit.qm, e["QM"], "QM")
    close_p(fit.qmp, e["QMp"], np.sqrt(e["QM"]), "QMp")
    assert [x if x is not None else None for x in fit.qm_df] == e["QMdf"]
    close(fit.ll_ml, e["ll_ML"], "ll_ML")
    close(fit.ll_reml, e["ll_REML"], "ll_REML")
    close(fit.vt, e["I2"]["vt"], "vt", rtol=RTOL_CLOSED)
    # I² per level is σ²ₗ/(Σσ² + vt): it inherits the tolerance of the σ².
    close(fit.i2, e["I2"]["levels"], "I2 per level", rtol=RTOL_FLAT if flat else RTOL,
          atol=ATOL_I2)  # fmt: skip
    close(fit.i2_total, e["I2"]["total"], "I2 total")


def _check_robust(got, exp, what):
    close(got.se, exp["se"], f"{what}.se")
    close(got.tval, exp["tval"], f"{what}.tval")
    close(got.df, exp["df"], f"{what}.df")
    close_p(got.pval, exp["pval"], exp["tval"], f"{what}.pval")
    close(got.ci_lb, exp["ci.lb"], f"{what}.ci.lb")
    close(got.ci_ub, exp["ci.ub"], f"{what}.ci.ub")
    close(got.qm, exp["QM"], f"{what}.QM")
    close(got.qm_df, exp["QMdf"], f"{what}.QMdf")
    close_p(got.qmp, exp["QMp"], np.sqrt(exp["QM"]), f"{what}.QMp")
    assert got.n_clusters == exp["n_clusters"]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_cr1_matches_metafors_robust(case):
    exp = case["expected"]["robust_CR1"]
    assert exp["vcov"] == "CR1"
    _check_robust(robust(fitted(case["name"]), vcov_type="CR1"), exp, "CR1")


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_cr2_matches_clubsandwich(case):
    exp = case["expected"]["robust_CR2"]
    assert exp["vcov"] == "CR2"
    _check_robust(robust(fitted(case["name"]), vcov_type="CR2"), exp, "CR2")


PROFILED = [c for c in CASES if "confint" in c["expected"]]


@pytest.mark.parametrize("case", PROFILED, ids=_ids(PROFILED))
def test_profile_intervals_match_confint(case):
    fit = fitted(case["name"])
    intervals = multilevel_confint(fit)
    for j, (got, exp) in enumerate(zip(intervals, case["expected"]["confint"], strict=True)):
        what = f"sigma2.{j + 1}"
        assert got.estimate == fit.sigma2[j], what  # compared with metafor's in check_sigma2
        if exp["ci.lb"] == 0:
            assert got.ci_lb == 0, what
        else:
            close(got.ci_lb, exp["ci.lb"], f"{what}.ci.lb")
        close(got.ci_ub, exp["ci.ub"], f"{what}.ci.ub")
        assert (got.lb_sign, got.ub_sign) == (exp["lb.sign"], exp["ub.sign"]), what
        assert got.converged


def test_few_cases_leave_metafors_optimum_undetermined_at_1e_6():
    flat = [c["name"] for c in CASES if check_sigma2(c, fitted(c["name"]))]
    assert len(flat) <= MAX_FLAT, flat


def test_metafors_default_optimiser_is_close_to_the_exact_optimum():
    # Not a tolerance of ours: how far metafor's own default answer (nlminb rel.tol 1e-10) is
    # from the optimum; documented in tests/fixtures/metafor/README.md.
    worst = 0.0
    for case in CASES:
        fit = fitted(case["name"])
        d = case["expected"]["default_control"]
        for got, exp, zero in zip(fit.sigma2, d["sigma2"], _boundary(case), strict=True):
            if not zero:
                worst = max(worst, abs(got - exp) / exp)
        worst = max(worst, float(np.max(np.abs(fit.se - np.array(d["se"])) / np.array(d["se"]))))
    assert worst < 1e-5  # 3.1e-6 on σ² (random_s18), 1.3e-6 on SEs


def test_a_cluster_with_one_effect_size_is_fine_and_a_design_of_singletons_is_refused():
    case = next(c for c in CASES if c["name"] == "assink__REML__z")
    sizes = Counter(case["inputs"]["cluster"])
    assert min(sizes.values()) == 1  # assink has studies with a single effect size
    with pytest.raises(StatsInputError, match="single effect size"):
        multilevel_fit([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], cluster=["a", "b", "c"])
    with pytest.raises(StatsInputError, match="one cluster"):
        multilevel_fit([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], cluster=["a", "a", "a"])


def test_robust_needs_more_clusters_than_coefficients():
    fit = multilevel_fit(
        [0.1, 0.3, 0.2, 0.5, 0.4, 0.1],
        [0.01, 0.02, 0.03, 0.01, 0.02, 0.02],
        cluster=["a", "a", "a", "b", "b", "b"],
        mods=[[1.0], [2.0], [3.0], [1.5], [0.5], [2.5]],
    )
    with pytest.raises(StatsInputError, match="more clusters"):
        robust(fit, vcov_type="CR2")


def test_rho_one_has_no_q_test_like_metafor():
    case = next(c for c in CASES if c["name"] == "assink_che_rho1__REML__z")
    assert case["expected"]["QE"] is None
    assert any("not positive definite" in w for w in case["warnings"])
    assert fitted(case["name"]).qe is None


def test_numbers_are_finite():
    for case in CASES:
        fit = fitted(case["name"])
        assert all(math.isfinite(x) for x in (*fit.sigma2, *fit.b, *fit.se)), case["name"]
