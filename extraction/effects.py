"""Effect sizes of consensus result rows (issue 16, part 5), by the pure statistics package.

Each result row belongs to an outcome whose ``effect`` field names the measure. Means, SDs and
Ns give SMD (Hedges' g, exact correction) or MD; events and totals give log OR, log RR or RD
(metafor's zero-cell rule: 1/2 added to every cell of a table with a zero); t, F or p with the
Ns give SMD; a correlation and n give ZCOR or COR; a reported effect with its 95 % CI gives
GEN (``from_ci``; a ratio is analysed on the log scale).
"""

from __future__ import annotations

import math

from extraction import schema as forms
from synthesis.stats.errors import StatsError
from synthesis.stats.escalc import escalc, from_ci, t_from_f, t_from_p


def _num(values: dict, key: str) -> float | None:
    try:
        v = float(values.get(key, ""))
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _one(measure: str, r: dict) -> tuple[float, float]:
    have = {k for k, v in r.items() if v is not None}
    if measure == "GEN":
        if not {"yi", "ci_lb", "ci_ub"} <= have:
            raise ValueError("a reported effect with its 95 % CI is needed")
        out = from_ci([r["yi"]], [r["ci_lb"]], [r["ci_ub"]], transf="log" if r["ratio"] else "none")
    elif measure in ("SMD", "MD"):
        if not {"n1i", "n2i"} <= have:
            raise ValueError("N 1 and N 2 are needed")
        if {"m1i", "sd1i", "m2i", "sd2i"} <= have:
            out = escalc(
                measure, **{k: [r[k]] for k in ("m1i", "sd1i", "m2i", "sd2i", "n1i", "n2i")}
            )
        elif measure == "SMD" and ({"ti"} <= have or {"fi"} <= have or {"pi"} <= have):
            if "ti" in have:
                t = r["ti"]
            elif "fi" in have:
                sign = 1.0
                if {"m1i", "m2i"} <= have and r["m1i"] < r["m2i"]:
                    sign = -1.0
                t = float(t_from_f([r["fi"]], [sign])[0])
            else:
                sign = -1.0 if {"m1i", "m2i"} <= have and r["m1i"] < r["m2i"] else 1.0
                t = float(t_from_p([r["pi"]], [r["n1i"]], [r["n2i"]], sign=[sign])[0])
            out = escalc("SMD", ti=[t], n1i=[r["n1i"]], n2i=[r["n2i"]])
        else:
            raise ValueError("means, SDs and Ns (or, for SMD, t, F or p with the Ns) are needed")
    elif measure in ("OR", "RR", "RD"):
        if not {"ai", "n1i", "ci", "n2i"} <= have:
            raise ValueError("events and totals of both arms are needed")
        out = escalc(
            measure,
            ai=[r["ai"]],
            bi=[r["n1i"] - r["ai"]],
            ci=[r["ci"]],
            di=[r["n2i"] - r["ci"]],
        )
    elif measure in ("ZCOR", "COR"):
        if not {"ri", "ni"} <= have:
            raise ValueError("a correlation and its n are needed")
        out = escalc(measure, ri=[r["ri"]], ni=[r["ni"]])
    else:
        raise ValueError(f"unknown measure {measure!r}")
    yi, vi = float(out.yi[0]), float(out.vi[0])
    if not (math.isfinite(yi) and math.isfinite(vi)):
        raise ValueError("the values given do not make an effect size")
    return yi, vi


def row_effects(values: dict) -> list[dict]:
    out = []
    for i in forms.rows(values, "results"):
        p = f"results.{i}."
        r = {f["key"]: _num(values, p + f["key"]) for f in forms.RESULT_FIELDS}
        r["ratio"] = values.get(p + "ratio") == "yes"
        o = int(r["outcome"]) - 1 if r["outcome"] is not None else -1
        measure = values.get(f"outcomes.{o}.effect", "")
        row = {
            "row": i + 1,
            "outcome": values.get(f"outcomes.{o}.name", ""),
            "timepoint": values.get(f"outcomes.{o}.timepoint", ""),
            "arm1": values.get(f"arms.{int(r['arm1'] or 0) - 1}.name", ""),
            "arm2": values.get(f"arms.{int(r['arm2'] or 0) - 1}.name", ""),
            "measure": measure,
            "yi": None,
            "vi": None,
            "ci_lb": None,
            "ci_ub": None,
            "problem": "",
        }
        if not measure:
            row["problem"] = "The outcome has no effect measure chosen."
        else:
            try:
                yi, vi = _one(measure, r)
            except (ValueError, StatsError) as exc:
                row["problem"] = f"Not computed: {exc}."
            else:
                se = math.sqrt(vi)
                row |= {
                    "yi": yi,
                    "vi": vi,
                    "ci_lb": yi - 1.959963984540054 * se,
                    "ci_ub": yi + 1.959963984540054 * se,
                }
        out.append(row)
    return out
