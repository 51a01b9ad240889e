"""``run(spec, rows)``: every number of one analysis's results page, computed by the engine.

The caller (the synthesis app) gives the analysis specification and one row per study; ``run``
validates both, calls :mod:`synthesis.stats` for the main model and everything around it, and
returns the JSON-able results dict of the synthesis contract (docs/architecture.md, Synthesis).
Nothing is recomputed here: every statistic comes from the engine, which is exact to metafor.

Decisions documented here (and in the notes a result carries):

* **Rows.** Each row is ``{"study", "yi", "vi", <variable>: value, ..., "rob": judgement}``.
  Labels must be present and unique (the leave-one-out table, the exclusion lists and the R
  script name studies by them); a CR LF or CR line break in a label or a value is stored as
  LF, as R reads it back. ``yi`` must be finite and ``vi`` finite and > 0.
* **Variables** (the subgroup variable, the moderators, the filter fields) are read from the
  rows; a variable no row has is an error. A column is *numeric* when every value it has is a
  number (or a string spelling one, such as ``"1948"``), otherwise *text*; missing values
  (``None``, ``""``, NaN) are allowed and reported.
* **Subgroups.** Studies without a value of the subgroup variable are left out of the subgroup
  analysis (a note says how many). Each subgroup gets its own model; a subgroup of one study is
  reported with that study's own estimate and CI (metafor's k = 1 fit: tau^2 = 0, a z test,
  the prediction interval equal to the CI) and a ``note``, not an error. The test of subgroup
  differences is metafor's omnibus QM of ``rma(yi, vi, mods = ~ factor(var))`` (an F test
  under Knapp-Hartung); the Q-between of the separate-tau^2 fits is given beside it.
* **Sensitivity.** "Without high risk of bias" drops the studies whose judgement is one of
  ``spec["high_rob"]``; studies without a judgement (``rob`` None) stay in, and a note says how
  many. A filter drops the studies *matching* it (``eq``, ``ne``, ``in``, ``lt``, ``gt``); a
  study without a value for the field never matches (it stays). A subset left with fewer than
  two studies is an entry whose model fields are None, with an ``error`` message.
* **Meta-regression** uses the studies that have every moderator; numeric moderators enter as
  they are, text ones as treatment-coded factors (levels sorted, the first is the reference).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from synthesis.stats import (
    MetaFit,
    StatsError,
    StatsInputError,
    _batch,
    heterogeneity_confint,
    meta_analyse,
    meta_fit,
    metareg_fit,
    moderator_design,
    predict_pooled,
    subgroup_analyse,
)
from synthesis.stats._inputs import check_level, check_method, check_test

ENGINE = "synthesis.stats / metafor 3.8-1"
#: Effect measures analysed on the log scale: figures label them back-transformed with exp.
LOG_MEASURES = frozenset({"OR", "RR", "HR", "IRR", "ROM", "PETO"})
FILTER_OPS = ("eq", "ne", "in", "lt", "gt")
RESERVED = ("study", "yi", "vi", "rob", "es_id")
MODEL_KEYS = (
    "method", "test", "level", "k", "estimate", "se", "stat", "df", "pval", "ci_lb", "ci_ub",
    "tau2", "tau2_ci_lb", "tau2_ci_ub", "i2", "i2_ci_lb", "i2_ci_ub", "h2", "q", "q_df", "q_p",
    "pi_lb", "pi_ub",
)  # fmt: skip
WITHOUT_HIGH_ROB = "without high risk of bias"
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


# ------------------------------------------------------------------------------ values


def num(x: Any) -> float | None:
    """A finite float, or None (NaN and infinities do not go into JSON)."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def cell(value: Any) -> Any:
    """A row's attribute as stored: None (missing), a finite int/float, or a stripped string."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    stripped = newlines(str(value)).strip()
    return stripped or None


def newlines(value: str) -> str:
    """Line breaks as ``\\n``: R's CSV reader turns a quoted ``\\r\\n`` into ``\\n``, so labels
    are stored as R will read them back."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def is_number(value: Any) -> bool:
    """A number, or a string that R's ``as.numeric`` and Python's ``float`` read alike."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and _NUMBER.fullmatch(value) is not None


def text(value: Any) -> str:
    """How a stored value is written in data.csv (and compared as text): ints without a
    decimal point, floats by ``repr`` (full precision), strings as they are."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def column_kind(rows: Sequence[Mapping[str, Any]], field: str) -> str:
    """``"numeric"`` when every present value of ``field`` is a number, else ``"text"``."""
    values = [r.get(field) for r in rows if r.get(field) is not None]
    return "numeric" if all(is_number(v) for v in values) else "text"


# -------------------------------------------------------------------------------- spec


def _as_list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise StatsInputError(f"{what} must be a list.")
    return list(value)


def _variable(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise StatsInputError(f"The {what} must be the name of a study field.")
    return name.strip()


def normalise_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The specification with defaults filled in and every option checked."""
    if not isinstance(spec, Mapping):
        raise StatsInputError("The analysis specification must be a mapping of options.")
    method = check_method(spec.get("method") or "REML")
    test = check_test(spec.get("test") or "z")
    level = spec.get("level", 95)
    check_level(level)
    subgroup = spec.get("subgroup")
    subgroup = _variable(subgroup, "subgroup variable") if subgroup not in (None, "") else None
    moderators = [_variable(m, "moderator") for m in _as_list(spec.get("moderators"), "moderators")]
    if len(set(moderators)) != len(moderators):
        raise StatsInputError("A moderator is named twice.")
    sens = spec.get("sensitivity") or {}
    if not isinstance(sens, Mapping):
        raise StatsInputError("The sensitivity options must be a mapping.")
    filters = []
    for i, f in enumerate(_as_list(sens.get("filters"), "The sensitivity filters")):
        filters.append(_filter(f, i))
    names = [f["name"] for f in filters]
    if len(set(names)) != len(names) or WITHOUT_HIGH_ROB in names:
        raise StatsInputError("Each sensitivity filter needs a name of its own.")
    high = _as_list(spec.get("high_rob"), "The judgements that count as high risk")
    return {
        "name": str(spec.get("name") or "Analysis"),
        "measure": str(spec.get("measure") or "").upper(),
        "method": method,
        "test": test,
        "level": float(level),
        "subgroup": subgroup,
        "moderators": moderators,
        "sensitivity": {
            "leave_one_out": bool(sens.get("leave_one_out", False)),
            "without_high_rob": bool(sens.get("without_high_rob", False)),
            "filters": filters,
        },
        "publication_bias": bool(spec.get("publication_bias", False)),
        "high_rob": [str(h) for h in high],
        "dependent": _dependent(spec.get("dependent"), method),
    }


DEPENDENT_ROBUST = ("cr1", "cr2")


def _dependent(value: Any, method: str) -> dict[str, Any] | None:
    """The "several effect sizes per study" option: None, or ``{"model": "three-level",
    "rho": None | float in [0, 1), "robust": None | "cr1" | "cr2"}``."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise StatsInputError("The option for several effect sizes per study must be a mapping.")
    model = str(value.get("model") or "three-level")
    if model != "three-level":
        raise StatsInputError(
            f"The model for several effect sizes per study is 'three-level', not {model!r}."
        )
    if method not in ("REML", "ML"):
        raise StatsInputError(
            f"The three-level model is fitted by REML or ML, not {method}: choose one of them."
        )
    rho = value.get("rho")
    if rho in (None, ""):
        rho = None
    else:
        try:
            if isinstance(rho, bool):
                raise TypeError
            rho = float(rho)
        except (TypeError, ValueError):
            raise StatsInputError(
                f"The within-study correlation must be a number, not {rho!r}."
            ) from None
        if not math.isfinite(rho) or not 0.0 <= rho < 1.0:
            raise StatsInputError(
                f"The within-study correlation rho is a number in [0, 1), not {value.get('rho')!r}."
            )
    robust = value.get("robust")
    robust = None if robust in (None, "") else str(robust).lower()
    if robust is not None and robust not in DEPENDENT_ROBUST:
        raise StatsInputError(
            f"Cluster-robust inference is 'cr1' or 'cr2', not {value.get('robust')!r}."
        )
    return {"model": model, "rho": rho, "robust": robust}


def _filter(f: Any, i: int) -> dict[str, Any]:
    if not isinstance(f, Mapping):
        raise StatsInputError(f"Sensitivity filter {i + 1} must be a mapping.")
    field = _variable(f.get("field"), f"field of sensitivity filter {i + 1}")
    op = str(f.get("op") or "").lower()
    if op not in FILTER_OPS:
        raise StatsInputError(
            f"Sensitivity filter {i + 1} has the operator {f.get('op')!r}; choose one of "
            f"{', '.join(FILTER_OPS)}."
        )
    value = f.get("value")
    if op == "in":
        values = [cell(v) for v in _as_list(value, f"The value of filter {i + 1} (op 'in')")]
        if not values or any(v is None for v in values):
            raise StatsInputError(f"Sensitivity filter {i + 1} needs a list of values for 'in'.")
        value = values
    else:
        value = cell(value)
        if value is None:
            raise StatsInputError(f"Sensitivity filter {i + 1} needs a value.")
        if op in ("lt", "gt") and not is_number(value):
            raise StatsInputError(
                f"Sensitivity filter {i + 1} compares with {op!r}, which needs a number, not "
                f"{value!r}."
            )
    shown = ", ".join(text(v) for v in value) if op == "in" else text(value)
    words = {"eq": "=", "ne": "!=", "in": "in", "lt": "<", "gt": ">"}[op]
    name = str(f.get("name") or "").strip() or f"without {field} {words} {shown}"
    return {"name": name, "field": field, "op": op, "value": value}


# -------------------------------------------------------------------------------- rows


def normalise_rows(rows: Sequence[Mapping[str, Any]], spec: Mapping[str, Any]) -> list[dict]:
    """Checked rows: unique labels, finite yi, finite vi > 0, attributes as :func:`cell`."""
    if rows is None or len(rows) == 0:
        raise StatsInputError("No study has this outcome: nothing to pool.")
    out: list[dict[str, Any]] = []
    seen: set[Any] = set()
    dependent = spec.get("dependent") is not None
    per_study: dict[str, int] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise StatsInputError(f"Study {i + 1} is not a mapping of fields.")
        label = row.get("study")
        label = "" if label is None else newlines(str(label))
        if not label.strip():
            raise StatsInputError(f"Study {i + 1} has no label.")
        if "\x00" in label:
            raise StatsInputError(f"Study {i + 1}'s label contains a NUL character.")
        if dependent:
            per_study[label] = per_study.get(label, 0) + 1
            es_id = cell(row.get("es_id"))
            es_id = str(per_study[label]) if es_id is None else text(es_id)
            if (label, es_id) in seen:
                raise StatsInputError(
                    f"Study {label!r} has two effect sizes with the id {es_id!r}; ids must be "
                    "unique within a study."
                )
            seen.add((label, es_id))
        elif label in seen:
            raise StatsInputError(f"Two studies are labelled {label!r}; labels must be unique.")
        else:
            seen.add(label)
        yi = _number(row.get("yi"), label, "effect size (yi)")
        vi = _number(row.get("vi"), label, "sampling variance (vi)")
        if vi <= 0:
            raise StatsInputError(
                f"Study {label!r} has a sampling variance of {vi!r}; every study needs vi > 0."
            )
        clean: dict[str, Any] = {"study": label, "yi": yi, "vi": vi}
        if dependent:
            clean["es_id"] = es_id
        for key, value in row.items():
            if key not in ("study", "yi", "vi", "es_id"):
                clean[str(key)] = cell(value)
        rob = cell(row.get("rob"))
        clean["rob"] = None if rob is None else text(rob)
        out.append(clean)
    if len(out) == 1:
        raise StatsInputError("Only one study has this outcome: nothing to pool.")
    fields = {k for r in out for k in r}
    for var in variables(spec):
        if var not in fields:
            raise StatsInputError(f"No study has the field {var!r} that the analysis uses.")
        if any("\x00" in str(r.get(var) or "") for r in out):
            raise StatsInputError(f"A value of {var!r} contains a NUL character.")
    return out


def _number(value: Any, label: str, what: str) -> float:
    try:
        if isinstance(value, bool):
            raise TypeError
        x = float(value)
    except (TypeError, ValueError):
        raise StatsInputError(f"Study {label!r} has no usable {what}: {value!r}.") from None
    if not math.isfinite(x):
        raise StatsInputError(f"Study {label!r} has a missing or non-finite {what}.")
    return x


def variables(spec: Mapping[str, Any]) -> list[str]:
    """The study fields the analysis reads besides study, yi, vi and rob, in a stable order."""
    out: list[str] = []
    names = [spec.get("subgroup"), *(spec.get("moderators") or [])]
    names += [f["field"] for f in spec["sensitivity"]["filters"]]
    for name in names:
        if name and name not in out and name not in RESERVED:
            out.append(name)
    return out


# ------------------------------------------------------------------------------ models


def _model_dict(fit: MetaFit, notes: list[str], what: str) -> dict[str, Any]:
    """MODEL of the contract for a fit with k >= 2: the fit, its heterogeneity CIs, its PI."""
    het = None
    if fit.is_random:
        try:
            het = heterogeneity_confint(fit)
        except StatsError as exc:
            notes.append(f"{what}: the confidence interval of tau^2 not computed: {exc}")
        # meta_analyse already notes a capped bound for the main model.
        if het is not None and het.ub_sign == ">" and what != "Main analysis":
            notes.append(
                f"{what}: the upper bound of the tau^2 CI is capped at tau2_max = "
                f"{het.tau2_max:g} (as metafor's confint)."
            )
    pred = predict_pooled(fit)
    pi_lb = pred.pi_lb[0] if pred.pi_lb is not None else pred.ci_lb[0]
    pi_ub = pred.pi_ub[0] if pred.pi_ub is not None else pred.ci_ub[0]
    return {
        "method": fit.method,
        "test": fit.test,
        "level": fit.level,
        "k": fit.k,
        "estimate": num(fit.estimate),
        "se": num(fit.se),
        "stat": num(fit.zval),
        "df": fit.df,
        "pval": num(fit.pval),
        "ci_lb": num(fit.ci_lb),
        "ci_ub": num(fit.ci_ub),
        "tau2": num(fit.tau2),
        "tau2_ci_lb": num(het.tau2_lb) if het else None,
        "tau2_ci_ub": num(het.tau2_ub) if het else None,
        "i2": num(fit.i2),
        "i2_ci_lb": num(het.i2_lb) if het else None,
        "i2_ci_ub": num(het.i2_ub) if het else None,
        "h2": num(fit.h2),
        "q": num(fit.qe),
        "q_df": fit.qe_df,
        "q_p": num(fit.qep),
        "pi_lb": num(pi_lb),
        "pi_ub": num(pi_ub),
    }


def _single_study_model(y: float, v: float, method: str, level: float) -> dict[str, Any]:
    """metafor's k = 1 fit (tau^2 = 0, z test, PI = CI), from the engine's batch fitter."""
    batch = _batch.Batch(np.array([[y]]), np.array([[v]]), np.ones((1, 1)))
    bf = _batch.fit_batch(batch, method, "z", 1.0 - level / 100.0)
    return {
        "method": method,
        "test": "z",
        "level": level,
        "k": 1,
        "estimate": num(bf.estimate[0]),
        "se": num(bf.se[0]),
        "stat": num(bf.zval[0]),
        "df": None,
        "pval": num(bf.pval[0]),
        "ci_lb": num(bf.ci_lb[0]),
        "ci_ub": num(bf.ci_ub[0]),
        "tau2": 0.0,
        "tau2_ci_lb": None,
        "tau2_ci_ub": None,
        "i2": num(bf.i2[0]),
        "i2_ci_lb": None,
        "i2_ci_ub": None,
        "h2": num(bf.h2[0]),
        "q": num(bf.qe[0]),
        "q_df": 0,
        "q_p": num(bf.qep[0]),
        "pi_lb": num(bf.ci_lb[0]),
        "pi_ub": num(bf.ci_ub[0]),
    }


def _empty_model(spec: Mapping[str, Any], k: int) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(MODEL_KEYS)
    out.update(method=spec["method"], test=spec["test"], level=spec["level"], k=k)
    return out


def _subset_model(
    rows: list[dict], keep: list[bool], spec: Mapping[str, Any], notes: list[str], what: str
) -> dict[str, Any]:
    """MODEL of the studies kept, or model fields None and ``error`` when it cannot be fitted."""
    y = [r["yi"] for r, k in zip(rows, keep, strict=True) if k]
    v = [r["vi"] for r, k in zip(rows, keep, strict=True) if k]
    if len(y) < 2:
        out = _empty_model(spec, len(y))
        out["error"] = (
            f"only {'one study remains' if len(y) == 1 else 'no study remains'}: nothing to pool"
        )
        return out
    try:
        fit = meta_fit(y, v, method=spec["method"], test=spec["test"], level=spec["level"])
    except StatsError as exc:
        out = _empty_model(spec, len(y))
        out["error"] = str(exc)
        return out
    return _model_dict(fit, notes, what)


# --------------------------------------------------------------------------------- run


def run(spec: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every number of the analysis ``spec`` on ``rows`` (see the module docstring).

    Raises
    ------
    StatsInputError
        Unusable input, with a message for the person who defined the analysis.
    StatsConvergenceError
        The main model's tau^2 iteration did not converge.
    """
    spec = normalise_spec(spec)
    data = normalise_rows(rows, spec)
    if spec["dependent"] is not None:
        from .dependent import run_dependent

        return run_dependent(spec, data)
    notes: list[str] = []
    labels = [r["study"] for r in data]
    y = [r["yi"] for r in data]
    v = [r["vi"] for r in data]
    sens = spec["sensitivity"]
    analysis = meta_analyse(
        y, v, labels=labels, method=spec["method"], test=spec["test"], level=spec["level"],
        with_leave1out=sens["leave_one_out"], with_publication_bias=spec["publication_bias"],
    )  # fmt: skip
    fit = analysis.fit
    notes += list(analysis.notes)
    main = _model_dict(fit, notes, "Main analysis")
    subgroup_var = spec["subgroup"]
    forest = analysis.forest
    studies = [
        {
            "study": labels[i],
            "yi": y[i],
            "vi": v[i],
            "ci_lb": num(forest.ci_lb[i]),
            "ci_ub": num(forest.ci_ub[i]),
            "weight": num(forest.weight_pct[i]),
            "subgroup": None
            if subgroup_var is None or data[i].get(subgroup_var) is None
            else text(data[i][subgroup_var]),
            "rob": data[i]["rob"],
        }
        for i in range(len(data))
    ]
    subgroups, subgroup_test = _subgroups(data, spec, notes)
    return {
        "spec": spec,
        "rows": data,
        "main": main,
        "studies": studies,
        "subgroups": subgroups,
        "subgroup_test": subgroup_test,
        "sensitivity": _sensitivity(data, spec, notes),
        "leave_one_out": _leave_one_out(analysis, labels),
        "metareg": _metareg(data, spec, notes),
        "publication_bias": _publication_bias(analysis) if spec["publication_bias"] else None,
        "transform": "exp" if spec["measure"] in LOG_MEASURES else None,
        "notes": notes,
        "engine": ENGINE,
    }


def subgroup_levels(rows: Sequence[Mapping[str, Any]], var: str) -> list[str]:
    """The subgroups of ``var`` in the engine's order (sorted texts, as written in data.csv)."""
    return sorted({text(r[var]) for r in rows if r.get(var) is not None})


def _subgroups(
    data: list[dict], spec: Mapping[str, Any], notes: list[str]
) -> tuple[list[dict], dict | None]:
    var = spec["subgroup"]
    if var is None:
        return [], None
    present = [r for r in data if r.get(var) is not None]
    missing = len(data) - len(present)
    if missing:
        notes.append(
            f"{missing} stud{'y has' if missing == 1 else 'ies have'} no value of {var!r} and "
            "are in no subgroup."
        )
    out = []
    for level in subgroup_levels(data, var):
        keep = [r.get(var) is not None and text(r[var]) == level for r in data]
        members = [r for r, k in zip(data, keep, strict=True) if k]
        what = f"Subgroup {var} = {level}"
        if len(members) == 1:
            model = _single_study_model(
                members[0]["yi"], members[0]["vi"], spec["method"], spec["level"]
            )
            model["note"] = "one study: its own estimate and CI, nothing pooled"
            notes.append(f"{what} has one study: its own estimate is reported, nothing pooled.")
        else:
            model = _subset_model(data, keep, spec, notes, what)
        model.update(
            subset=f"{var} = {level}",
            variable=var,
            value=level,
            studies=[r["study"] for r in members],
        )
        out.append(model)
    if len(out) < 2:
        notes.append(
            f"The test of subgroup differences needs at least two subgroups of {var!r}; "
            f"there {'is one' if out else 'are none'}."
        )
        return out, None
    try:
        sub = subgroup_analyse(
            [r["yi"] for r in present],
            [r["vi"] for r in present],
            [text(r[var]) for r in present],
            method=spec["method"],
            test=spec["test"],
            level=spec["level"],
        )
    except StatsError as exc:
        notes.append(f"Test of subgroup differences not computed: {exc}")
        return out, None
    c, s = sub.common_between, sub.between_separate
    if num(c.statistic) is None or num(c.pval) is None:
        notes.append(
            "The test of subgroup differences is undefined here: the meta-regression on the "
            "subgroups has no residual degrees of freedom (as many subgroups as studies)."
        )
        return out, None
    test = {
        "qm": num(c.statistic),
        "dist": c.dist,
        "df": c.df[0],
        "df2": c.df[1] if len(c.df) > 1 else None,
        "pval": num(c.pval),
        "k": len(present),
        "tau2": num(sub.common.tau2),
        "separate": {"q": num(s.statistic), "df": s.df[0], "pval": num(s.pval)},
    }
    return out, test


def filter_matches(rows: Sequence[Mapping[str, Any]], f: Mapping[str, Any]) -> list[bool]:
    """Which rows the filter ``f`` matches (and so excludes); missing values never match.

    A numeric column compared with numbers compares numbers; anything else compares the
    values as written in data.csv.
    """
    field, op, value = f["field"], f["op"], f["value"]
    values = value if op == "in" else [value]
    numeric = column_kind(rows, field) == "numeric" and all(is_number(x) for x in values)
    if op in ("lt", "gt") and not numeric:
        raise StatsInputError(
            f"The filter {f['name']!r} compares {field!r} with {op!r}, but {field!r} has values "
            "that are not numbers."
        )
    out = []
    for r in rows:
        x = r.get(field)
        if x is None:
            out.append(False)
            continue
        if numeric:
            a, targets = float(x), [float(t) for t in values]
        else:
            a, targets = text(x), [text(t) for t in values]
        if op in ("eq", "in"):
            out.append(a in targets)
        elif op == "ne":
            out.append(a not in targets)
        elif op == "lt":
            out.append(a < targets[0])
        else:
            out.append(a > targets[0])
    return out


def _sensitivity(data: list[dict], spec: Mapping[str, Any], notes: list[str]) -> list[dict]:
    sens = spec["sensitivity"]
    out = []
    if sens["without_high_rob"]:
        high = set(spec["high_rob"])
        drop = [r["rob"] is not None and r["rob"] in high for r in data]
        unjudged = sum(r["rob"] is None for r in data)
        if unjudged:
            notes.append(
                f"Without high risk of bias: {unjudged} stud"
                f"{'y has' if unjudged == 1 else 'ies have'} no risk-of-bias judgement and "
                f"{'is' if unjudged == 1 else 'are'} kept."
            )
        if not high:
            notes.append("Without high risk of bias: no judgement counts as high risk.")
        out.append(
            _sensitivity_entry(data, drop, spec, notes, WITHOUT_HIGH_ROB, "without_high_rob")
        )
    for f in sens["filters"]:
        drop = filter_matches(data, f)
        entry = _sensitivity_entry(data, drop, spec, notes, f["name"], "filter")
        entry.update(field=f["field"], op=f["op"], value=f["value"])
        out.append(entry)
    return out


def _sensitivity_entry(
    data: list[dict], drop: list[bool], spec: Mapping[str, Any], notes: list[str], name: str,
    kind: str,
) -> dict[str, Any]:  # fmt: skip
    model = _subset_model(data, [not d for d in drop], spec, notes, f"Sensitivity {name!r}")
    model.update(
        subset=name,
        kind=kind,
        excluded=[r["study"] for r, d in zip(data, drop, strict=True) if d],
    )
    return model


def _leave_one_out(analysis: Any, labels: list[str]) -> list[dict]:
    res = analysis.leave1out
    if res is None:
        return []
    return [
        {
            "study": labels[i],
            "k": int(res.k[i]),
            "estimate": num(res.estimate[i]),
            "se": num(res.se[i]),
            "stat": num(res.zval[i]),
            "pval": num(res.pval[i]),
            "ci_lb": num(res.ci_lb[i]),
            "ci_ub": num(res.ci_ub[i]),
            "tau2": num(res.tau2[i]),
            "i2": num(res.i2[i]),
            "h2": num(res.h2[i]),
            "q": num(res.q[i]),
            "qp": num(res.qp[i]),
        }
        for i in range(len(labels))
    ]


def moderator_kinds(rows: Sequence[Mapping[str, Any]], moderators: Sequence[str]) -> dict:
    """Each moderator's coding: ``{"kind": "numeric"}`` or ``{"kind": "factor", "levels"}``."""
    out = {}
    for m in moderators:
        if column_kind(rows, m) == "numeric":
            out[m] = {"kind": "numeric"}
        else:
            out[m] = {"kind": "factor", "levels": subgroup_levels(rows, m)}
    return out


def _metareg(data: list[dict], spec: Mapping[str, Any], notes: list[str]) -> dict | None:
    mods = spec["moderators"]
    if not mods:
        return None
    rows = [r for r in data if all(r.get(m) is not None for m in mods)]
    dropped = [r["study"] for r in data if r not in rows]
    if dropped:
        notes.append(
            f"Meta-regression: {len(dropped)} stud{'y lacks' if len(dropped) == 1 else 'ies lack'}"
            " a moderator value and "
            f"{'is' if len(dropped) == 1 else 'are'} left out."
        )
    kinds = moderator_kinds(rows, mods)
    try:
        values = {
            m: [float(r[m]) if kinds[m]["kind"] == "numeric" else text(r[m]) for r in rows]
            for m in mods
        }
        design = moderator_design(
            values, categorical=[m for m in mods if kinds[m]["kind"] == "factor"]
        )
        reg = metareg_fit(
            [r["yi"] for r in rows], [r["vi"] for r in rows], design,
            method=spec["method"], test=spec["test"], level=spec["level"],
        )  # fmt: skip
    except StatsError as exc:
        notes.append(f"Meta-regression not computed: {exc}")
        return None
    if reg.qe_df < 1:
        notes.append(
            f"Meta-regression not computed: {reg.k} studies for {reg.p} coefficients leave no "
            "residual degrees of freedom."
        )
        return None
    return {
        "k": reg.k,
        "moderators": [{"name": m, **kinds[m]} for m in mods],
        "excluded": dropped,
        "coefficients": [
            {
                "name": name,
                "estimate": num(reg.b[j]),
                "se": num(reg.se[j]),
                "stat": num(reg.zval[j]),
                "pval": num(reg.pval[j]),
                "ci_lb": num(reg.ci_lb[j]),
                "ci_ub": num(reg.ci_ub[j]),
            }
            for j, name in enumerate(reg.coef_names)
        ],
        "qm": num(reg.qm),
        "qm_dist": reg.qm_dist,
        "qm_df": reg.qm_df[0],
        "qm_df2": reg.qm_df[1],
        "qm_p": num(reg.qmp),
        "tau2": num(reg.tau2),
        "i2": num(reg.i2),
        "h2": num(reg.h2),
        "r2": num(reg.r2) if reg.r2 is not None else None,
        "qe": num(reg.qe),
        "qe_df": reg.qe_df,
        "qe_p": num(reg.qep),
    }


def _publication_bias(analysis: Any) -> dict[str, Any]:
    e, r, tf = analysis.egger, analysis.rank, analysis.trimfill
    egger = (
        None
        if e is None
        else {
            "stat": num(e.zval),
            "dist": e.dist,
            "df": e.df,
            "pval": num(e.pval),
            "limit_estimate": num(e.limit_estimate),
            "limit_ci_lb": num(e.limit_ci_lb),
            "limit_ci_ub": num(e.limit_ci_ub),
        }
    )
    rank = None if r is None else {"tau": num(r.tau), "pval": num(r.pval), "exact": r.exact}
    trimfill = None
    if tf is not None:
        trimfill = {
            "k0": tf.k0,
            "se_k0": num(tf.se_k0),
            "side": tf.side,
            "estimator": tf.estimator,
            "k": tf.fit.k,
            "estimate": num(tf.fit.estimate),
            "se": num(tf.fit.se),
            "pval": num(tf.fit.pval),
            "ci_lb": num(tf.fit.ci_lb),
            "ci_ub": num(tf.fit.ci_ub),
            "tau2": num(tf.fit.tau2),
            "filled": [
                {"yi": num(a), "vi": num(b)}
                for a, b in zip(tf.filled_yi, tf.filled_vi, strict=True)
            ],
        }
    return {"egger": egger, "rank": rank, "trimfill": trimfill}


__all__ = ["ENGINE", "LOG_MEASURES", "WITHOUT_HIGH_ROB", "run"]
