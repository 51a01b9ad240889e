"""Results dicts of contract D built by hand from dat.bcg (demo_data/bcg/dat_bcg.tsv), fitted
with synthesis.stats, so the figure tests do not depend on synthesis.bundle."""

from __future__ import annotations

import csv

from synthesis.stats import escalc, meta_analyse
from synthesis.stats.models import MetaFit
from tests.paths import ROOT

BCG = ROOT / "demo_data" / "bcg" / "dat_bcg.tsv"


def bcg_rows() -> list[dict]:
    with BCG.open(newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _model(fit: MetaFit, pred=None, het=None) -> dict:
    out = {
        "method": fit.method,
        "test": fit.test,
        "level": fit.level,
        "k": fit.k,
        "estimate": fit.estimate,
        "se": fit.se,
        "stat": fit.zval,
        "pval": fit.pval,
        "ci_lb": fit.ci_lb,
        "ci_ub": fit.ci_ub,
        "tau2": fit.tau2,
        "tau2_ci_lb": het.tau2_lb if het else None,
        "tau2_ci_ub": het.tau2_ub if het else None,
        "i2": fit.i2,
        "i2_ci_lb": het.i2_lb if het else None,
        "i2_ci_ub": het.i2_ub if het else None,
        "h2": fit.h2,
        "q": fit.qe,
        "q_df": fit.qe_df,
        "q_p": fit.qep,
        "pi_lb": None,
        "pi_ub": None,
    }
    if pred is not None:
        lb = pred.pi_lb if pred.pi_lb is not None else pred.ci_lb
        ub = pred.pi_ub if pred.pi_ub is not None else pred.ci_ub
        out["pi_lb"], out["pi_ub"] = float(lb[0]), float(ub[0])
    return out


def bcg_result(
    *, method: str = "REML", subgroup: str | None = None, rob: dict | None = None, rows=None
) -> dict:
    """dat.bcg's log risk ratios pooled with ``method``; ``subgroup`` a column of the TSV
    ("alloc"); ``rob`` maps a study label to a judgement."""
    data = rows if rows is not None else bcg_rows()
    es = escalc(
        "RR",
        ai=[float(r["tpos"]) for r in data],
        bi=[float(r["tneg"]) for r in data],
        ci=[float(r["cpos"]) for r in data],
        di=[float(r["cneg"]) for r in data],
    )
    labels = [f"{r['author']}, {r['year']}" for r in data]
    groups = [r[subgroup] for r in data] if subgroup else None
    ma = meta_analyse(es.yi, es.vi, labels=labels, method=method, groups=groups)
    fit = ma.fit
    rob = rob or {}
    studies = [
        {
            "study": labels[i],
            "yi": float(fit.yi[i]),
            "vi": float(fit.vi[i]),
            "ci_lb": float(ma.forest.ci_lb[i]),
            "ci_ub": float(ma.forest.ci_ub[i]),
            "weight": float(fit.weights_pct[i]),
            "subgroup": groups[i] if groups else None,
            "rob": rob.get(labels[i]),
        }
        for i in range(fit.k)
    ]
    subgroups, test = [], None
    if ma.subgroups is not None:
        for g in ma.subgroups.separate:
            members = [labels[i] for i in range(fit.k) if groups[i] == g.group]
            subgroups.append(
                {
                    "method": ma.subgroups.method,
                    "test": ma.subgroups.test,
                    "level": 95.0,
                    "k": g.k,
                    "estimate": g.estimate,
                    "se": g.se,
                    "stat": g.zval,
                    "pval": g.pval,
                    "ci_lb": g.ci_lb,
                    "ci_ub": g.ci_ub,
                    "tau2": g.tau2,
                    "i2": g.i2,
                    "h2": g.h2,
                    "q": g.qe,
                    "q_df": g.k - 1,
                    "q_p": g.qep,
                    "pi_lb": None,
                    "pi_ub": None,
                    "subset": f"{subgroup} = {g.group}",
                    "variable": subgroup,
                    "value": g.group,
                    "studies": members,
                }
            )
        between = ma.subgroups.common_between
        test = {"qm": between.statistic, "df": between.df[0], "pval": between.pval}
    l1o = ma.leave1out
    tf = ma.trimfill
    return {
        "spec": {
            "name": "BCG vaccine and tuberculosis",
            "measure": "RR",
            "method": method,
            "test": "z",
            "level": 95.0,
            "subgroup": subgroup,
            "moderators": [],
            "sensitivity": {"leave_one_out": True, "without_high_rob": False, "filters": []},
            "publication_bias": True,
            "high_rob": ["High"],
        },
        "rows": [
            {"study": s["study"], "yi": s["yi"], "vi": s["vi"], "rob": s["rob"]} for s in studies
        ],
        "main": _model(fit, ma.prediction, ma.heterogeneity),
        "studies": studies,
        "subgroups": subgroups,
        "subgroup_test": test,
        "sensitivity": [],
        "leave_one_out": [
            {
                "study": labels[i],
                "estimate": float(l1o.estimate[i]),
                "se": float(l1o.se[i]),
                "pval": float(l1o.pval[i]),
                "ci_lb": float(l1o.ci_lb[i]),
                "ci_ub": float(l1o.ci_ub[i]),
                "tau2": float(l1o.tau2[i]),
                "i2": float(l1o.i2[i]),
                "q": float(l1o.q[i]),
                "qp": float(l1o.qp[i]),
            }
            for i in range(fit.k)
        ]
        if l1o is not None
        else [],
        "metareg": None,
        "publication_bias": {
            "egger": {
                "stat": ma.egger.zval,
                "pval": ma.egger.pval,
                "limit_estimate": ma.egger.limit_estimate,
            }
            if ma.egger
            else None,
            "rank": {"tau": ma.rank.tau, "pval": ma.rank.pval} if ma.rank else None,
            "trimfill": {
                "k0": tf.k0,
                "side": tf.side,
                "estimate": tf.fit.estimate,
                "ci_lb": tf.fit.ci_lb,
                "ci_ub": tf.fit.ci_ub,
                "filled": [
                    {"yi": float(y), "vi": float(v)}
                    for y, v in zip(tf.filled_yi, tf.filled_vi, strict=True)
                ],
            }
            if tf
            else None,
        },
        "transform": "exp",
        "notes": list(ma.notes),
        "engine": "synthesis.stats / metafor 3.8-1",
    }


def synthetic_result(k: int, *, seed: int = 7, rob: bool = False) -> dict:
    """A result of ``k`` made-up studies (log odds ratios) for size tests."""
    import numpy as np

    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.4, size=k)
    yi = rng.normal(-0.3, 0.3, size=k) + rng.normal(0, np.sqrt(vi))
    rows = [
        {"study": f"Trial {i + 1:03d} (site {i % 7})", "yi": yi[i], "vi": vi[i]} for i in range(k)
    ]
    return from_rows(rows, rob=rob)


def from_rows(rows: list[dict], *, rob: bool = False, method: str = "REML") -> dict:
    """A result for arbitrary ``rows`` ({"study","yi","vi"}) with the BCG result's shape."""
    from synthesis.stats import meta_fit, predict_pooled

    yi = [float(r["yi"]) for r in rows]
    vi = [float(r["vi"]) for r in rows]
    fit = meta_fit(yi, vi, method=method)
    z = 1.959963984540054
    judgements = ["Low", "Some concerns", "High"]
    studies = [
        {
            "study": r["study"],
            "yi": yi[i],
            "vi": vi[i],
            "ci_lb": yi[i] - z * vi[i] ** 0.5,
            "ci_ub": yi[i] + z * vi[i] ** 0.5,
            "weight": float(fit.weights_pct[i]),
            "subgroup": None,
            "rob": judgements[i % 3] if rob else None,
        }
        for i, r in enumerate(rows)
    ]
    return {
        "spec": {"measure": "OR", "method": method, "test": "z", "level": 95.0},
        "rows": [{"study": s["study"], "yi": s["yi"], "vi": s["vi"]} for s in studies],
        "main": _model(fit, predict_pooled(fit)),
        "studies": studies,
        "subgroups": [],
        "subgroup_test": None,
        "sensitivity": [],
        "leave_one_out": [
            {
                "study": s["study"],
                "estimate": fit.estimate,
                "se": fit.se,
                "pval": fit.pval,
                "ci_lb": fit.ci_lb,
                "ci_ub": fit.ci_ub,
                "tau2": fit.tau2,
                "i2": fit.i2,
                "q": fit.qe,
                "qp": fit.qep,
            }
            for s in studies
        ],
        "metareg": None,
        "publication_bias": None,
        "transform": "exp",
        "notes": [],
        "engine": "synthesis.stats / metafor 3.8-1",
    }


def svg_texts(svg: bytes) -> list[str]:
    """The content of every <text> element of an SVG (matplotlib writes one line per element)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def assert_texts_apart(fig) -> None:
    """No two texts of ``fig`` overlap and every text lies inside the figure."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    boxes = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        b = t.get_window_extent(renderer)
        assert b.x0 >= -0.5 and b.y0 >= -0.5, (t.get_text(), b)
        assert b.x1 <= width + 0.5 and b.y1 <= height + 0.5, (t.get_text(), b, width, height)
        # A hair smaller, so texts that merely touch (a line under another) do not count.
        boxes.append(
            (t.get_text(), Bbox.from_extents(b.x0 + 0.3, b.y0 + 0.5, b.x1 - 0.3, b.y1 - 0.5))
        )
    boxes.sort(key=lambda x: x[1].y0)
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1 :]:
            if b.y0 > a.y1:
                break
            assert not a.overlaps(b), (ta, tb)
