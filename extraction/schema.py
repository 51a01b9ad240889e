"""Extraction forms as data: the field types, the repeatable groups, the result rows, the
Cochrane template, and the checks of what an extractor typed (issue 16, part 2).

A form's schema is JSON::

    {"sections": [{"title": "Methods", "fields": [FIELD, ...]}, ...],
     "arms": [FIELD, ...], "outcomes": [FIELD, ...]}

FIELD is ``{"key", "label", "type", "help", "required", "choices"}``. The arms group always
has ``name`` and ``n`` (randomised); the outcomes group ``name``, ``timepoint``, ``measure``
(what was measured) and ``effect`` (the effect measure computed from its result rows). Result
rows have the fixed fields of ``RESULT_FIELDS``: an outcome, two arms, and any of means/SDs/Ns,
events/totals, t, F or p with the Ns, a correlation and its n, or a reported effect with its
95 % CI.

Values are stored flat, one key a value: ``"<section field key>"``, ``"arms.<i>.<key>"``,
``"outcomes.<i>.<key>"`` and ``"results.<i>.<key>"``, each a string as typed (a multiple
choice is a list). Flat keys make comparing two extractions, consensus and form versions
simple: a key the current form no longer has is kept and shown "from an earlier form version".
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

TEXT, LONG_TEXT, INTEGER, DECIMAL = "text", "long_text", "integer", "decimal"
CHOICE, MULTIPLE, YES_NO, DATE = "choice", "multiple", "yes_no", "date"
FIELD_TYPES = {
    TEXT: "Text",
    LONG_TEXT: "Long text",
    INTEGER: "Integer",
    DECIMAL: "Decimal",
    CHOICE: "Single choice",
    MULTIPLE: "Multiple choice",
    YES_NO: "Yes/no",
    DATE: "Date",
}
GROUPS = ("arms", "outcomes")
MAX_FIELDS = 200
MAX_VALUE = 10000
MAX_ROWS = 50
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: The effect measures an outcome may be analysed with (synthesis.stats.escalc's names).
EFFECT_MEASURES = ("SMD", "MD", "OR", "RR", "RD", "ZCOR", "COR", "GEN")


def field(key, label, type_=TEXT, help_="", required=False, choices=()) -> dict:
    return {
        "key": key,
        "label": label,
        "type": type_,
        "help": help_,
        "required": required,
        "choices": list(choices),
    }


ARM_FIXED = [
    field("name", "Arm", required=True, help_="As the report names it."),
    field("n", "Randomised (n)", INTEGER, "Participants randomised to this arm."),
]
OUTCOME_FIXED = [
    field("name", "Outcome", required=True),
    field("timepoint", "Time point", help_="E.g. 12 weeks after randomisation."),
    field("measure", "Measure", help_="The scale or instrument, and its direction."),
    field(
        "effect",
        "Effect measure",
        CHOICE,
        "Computed from the result rows: SMD (Hedges' g), MD, log OR, log RR, RD, Fisher's z, "
        "r, or GEN for a reported effect with its CI.",
        choices=EFFECT_MEASURES,
    ),
]
#: The fixed fields of a result row (one outcome, one comparison of two arms).
RESULT_FIELDS = [
    field("outcome", "Outcome (number)", INTEGER, required=True),
    field("arm1", "Arm 1 (number)", INTEGER, "The intervention arm.", required=True),
    field("arm2", "Arm 2 (number)", INTEGER, "The comparator arm.", required=True),
    field("m1i", "Mean 1", DECIMAL),
    field("sd1i", "SD 1", DECIMAL),
    field("n1i", "N 1", INTEGER, "Analysed in arm 1."),
    field("m2i", "Mean 2", DECIMAL),
    field("sd2i", "SD 2", DECIMAL),
    field("n2i", "N 2", INTEGER, "Analysed in arm 2."),
    field("ai", "Events 1", INTEGER),
    field("ci", "Events 2", INTEGER),
    field("ti", "t", DECIMAL, "A two-group t statistic (with N 1 and N 2)."),
    field("fi", "F", DECIMAL, "A one-df F (with N 1, N 2; the sign from the means if given)."),
    field("pi", "p", DECIMAL, "A two-sided p (with N 1 and N 2)."),
    field("ri", "Correlation r", DECIMAL),
    field("ni", "n (correlation)", INTEGER),
    field("yi", "Reported effect", DECIMAL, "A difference, or a ratio (OR, RR, HR) as reported."),
    field("ci_lb", "95 % CI lower", DECIMAL),
    field("ci_ub", "95 % CI upper", DECIMAL),
    field("ratio", "The reported effect is a ratio", YES_NO),
]
RESULT_KEYS = {f["key"] for f in RESULT_FIELDS}


def empty_schema() -> dict:
    return {
        "sections": [],
        "arms": copy.deepcopy(ARM_FIXED),
        "outcomes": copy.deepcopy(OUTCOME_FIXED),
    }


def cochrane_rct() -> dict:
    """The Cochrane data-collection items for randomised trials (Handbook ch. 5, table 5.3.a)."""
    schema = empty_schema()
    schema["sections"] = [
        {
            "title": "Methods",
            "fields": [
                field(
                    "design",
                    "Study design",
                    CHOICE,
                    choices=["parallel", "cluster", "crossover", "other"],
                    required=True,
                ),
                field("setting", "Setting", LONG_TEXT, "Country, centres, recruitment."),
                field("start_date", "Start date", DATE),
                field("duration", "Duration of follow-up", TEXT),
                field("sequence", "Random sequence generation", LONG_TEXT),
                field("concealment", "Allocation concealment", LONG_TEXT),
                field(
                    "blinding",
                    "Who was blinded",
                    MULTIPLE,
                    choices=["participants", "personnel", "outcome assessors", "nobody"],
                ),
            ],
        },
        {
            "title": "Participants",
            "fields": [
                field("n_randomised", "Total randomised", INTEGER),
                field("inclusion", "Inclusion criteria", LONG_TEXT),
                field("exclusion", "Exclusion criteria", LONG_TEXT),
                field("age", "Age (mean or median, range)", TEXT),
                field("female_pct", "Female (%)", DECIMAL),
            ],
        },
        {
            "title": "Interventions",
            "fields": [
                field(
                    "intervention",
                    "Intervention (dose, delivery, duration)",
                    LONG_TEXT,
                    required=True,
                ),
                field("comparator", "Comparator", LONG_TEXT, required=True),
                field("co_interventions", "Co-interventions", LONG_TEXT),
            ],
        },
        {
            "title": "Outcomes",
            "fields": [
                field("primary_outcome", "Primary outcome as defined by the authors", LONG_TEXT),
                field("outcomes_collected", "Outcomes collected and time points", LONG_TEXT),
            ],
        },
        {
            "title": "Results and other",
            "fields": [
                field("itt", "Intention-to-treat analysis", YES_NO),
                field("funding", "Funding source", TEXT),
                field("conflicts", "Declared conflicts of interest", TEXT),
                field("notes", "Notes", LONG_TEXT),
            ],
        },
    ]
    return schema


def _no_nul(data):
    if isinstance(data, str):
        return data.replace("\x00", "")
    if isinstance(data, list):
        return [_no_nul(v) for v in data]
    if isinstance(data, dict):
        return {str(k).replace("\x00", ""): _no_nul(v) for k, v in data.items()}
    return data


def clean_schema(data) -> dict:
    """The schema ``data`` normalised, or ValueError naming what is wrong."""
    data = _no_nul(data)
    if not isinstance(data, dict):
        raise ValueError("The form must be an object with sections, arms and outcomes.")
    out = empty_schema()
    seen: set[str] = set()
    count = 0

    def one(raw, where: str, keys: set[str]) -> dict:
        nonlocal count
        count += 1
        if count > MAX_FIELDS:
            raise ValueError(f"A form has at most {MAX_FIELDS} fields.")
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: a field must be an object.")
        key = str(raw.get("key", "")).strip()
        if not KEY.match(key):
            raise ValueError(
                f"{where}: key {key!r} must start with a letter and hold only a-z, 0-9 and _ "
                "(at most 40)."
            )
        if key in keys:
            raise ValueError(f"{where}: the key {key!r} is used twice.")
        keys.add(key)
        label = str(raw.get("label", "")).strip()[:200]
        if not label:
            raise ValueError(f"{where}: field {key!r} needs a label.")
        type_ = raw.get("type", TEXT)
        if type_ not in FIELD_TYPES:
            raise ValueError(
                f"{where}: field {key!r} has type {type_!r}; choose one of "
                f"{', '.join(FIELD_TYPES)}."
            )
        choices = raw.get("choices") or []
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise ValueError(f"{where}: the choices of {key!r} must be a list of texts.")
        choices = [c.strip()[:200] for c in choices if c.strip()]
        if type_ in (CHOICE, MULTIPLE) and not choices:
            raise ValueError(f"{where}: field {key!r} is a choice and needs choices.")
        return field(
            key, label, type_, str(raw.get("help", ""))[:1000], bool(raw.get("required")), choices
        )

    sections = data.get("sections", [])
    if not isinstance(sections, list):
        raise ValueError("sections must be a list.")
    for i, sec in enumerate(sections, 1):
        if not isinstance(sec, dict) or not str(sec.get("title", "")).strip():
            raise ValueError(f"Section {i} needs a title.")
        fields = sec.get("fields", [])
        if not isinstance(fields, list):
            raise ValueError(f"Section {i}: fields must be a list.")
        out["sections"].append(
            {
                "title": str(sec["title"]).strip()[:200],
                "fields": [one(f, f"Section {sec['title']}", seen) for f in fields],
            }
        )
    for group, fixed in (("arms", ARM_FIXED), ("outcomes", OUTCOME_FIXED)):
        extra = data.get(group, [])
        if not isinstance(extra, list):
            raise ValueError(f"{group} must be a list.")
        keys = {f["key"] for f in fixed}
        out[group] = copy.deepcopy(fixed) + [
            one(f, group, keys)
            for f in extra
            if isinstance(f, dict) and f.get("key") not in [x["key"] for x in fixed]
        ]
    return out


def fields_by_key(schema: dict) -> dict[str, dict]:
    """Every field of the form by its flat key pattern (``arms.*.n`` for groups)."""
    out = {}
    for sec in schema.get("sections", []):
        for f in sec["fields"]:
            out[f["key"]] = f
    for group in GROUPS:
        for f in schema.get(group, []):
            out[f"{group}.*.{f['key']}"] = f
    for f in RESULT_FIELDS:
        out[f"results.*.{f['key']}"] = f
    return out


_FLAT = re.compile(r"^(arms|outcomes|results)\.(\d{1,2})\.([a-z][a-z0-9_]{0,39})$")


def pattern_of(key: str) -> str:
    m = _FLAT.match(key)
    return f"{m.group(1)}.*.{m.group(3)}" if m else key


def field_of(schema: dict, key: str) -> dict | None:
    return fields_by_key(schema).get(pattern_of(key))


def check_key(key: str) -> None:
    m = _FLAT.match(key)
    if m and int(m.group(2)) >= MAX_ROWS:
        raise ValueError(f"At most {MAX_ROWS} rows per group.")
    if not m and not KEY.match(key):
        raise ValueError(f"{key!r} is not a field of this form.")


def clean_value(f: dict, value):
    """The value as stored (a string, or a list for multiple choice), or ValueError saying why."""
    if f["type"] == MULTIPLE:
        values = value if isinstance(value, list) else [value]
        values = [v for v in values if v not in (None, "")]
        bad = [v for v in values if v not in f["choices"]]
        if bad:
            raise ValueError(f"{f['label']}: {bad[0]!r} is not one of the choices.")
        return [str(v) for v in dict.fromkeys(values)]
    if isinstance(value, list):
        value = value[-1] if value else ""
    value = "" if value is None else str(value).replace("\x00", "").strip()
    if len(value) > MAX_VALUE:
        raise ValueError(f"{f['label']}: at most {MAX_VALUE} characters.")
    if value == "":
        return ""
    if f["type"] == INTEGER:
        try:
            as_int = int(value)
        except ValueError:
            raise ValueError(f"{f['label']}: {value!r} is not a whole number.") from None
        if as_int < 0:
            raise ValueError(f"{f['label']}: a count cannot be negative.")
        return str(as_int)
    if f["type"] == DECIMAL:
        try:
            number = Decimal(
                value.replace(",", ".") if value.count(",") == 1 and "." not in value else value
            )
        except InvalidOperation:
            raise ValueError(f"{f['label']}: {value!r} is not a number.") from None
        if not number.is_finite():
            raise ValueError(f"{f['label']}: {value!r} is not a number.")
        return str(number)
    if f["type"] == CHOICE and value not in f["choices"]:
        raise ValueError(
            f"{f['label']}: {value!r} is not one of the choices ({', '.join(f['choices'])})."
        )
    if f["type"] == YES_NO and value not in ("yes", "no"):
        raise ValueError(f"{f['label']}: answer yes or no.")
    if f["type"] == DATE:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{f['label']}: {value!r} is not a date (YYYY-MM-DD).") from None
    return value


def rows(values: dict, group: str) -> list[int]:
    """The row numbers of a repeatable group that hold any value."""
    found = set()
    for key, value in values.items():
        m = _FLAT.match(key)
        if m and m.group(1) == group and value not in ("", [], None):
            found.add(int(m.group(2)))
    return sorted(found)


def _num(values: dict, key: str) -> float | None:
    try:
        v = float(values.get(key, ""))
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def cross_checks(values: dict) -> dict[str, str]:
    """Problems across fields, each by the key it concerns: a negative SD, an N larger than
    its arm's randomised n, a CI that does not contain its estimate, a row's arm or outcome
    that does not exist, a correlation outside -1..1, a p outside 0..1."""
    problems: dict[str, str] = {}
    arms, outcomes = set(rows(values, "arms")), set(rows(values, "outcomes"))
    for i in rows(values, "results"):
        p = f"results.{i}."
        for sd in ("sd1i", "sd2i"):
            v = _num(values, p + sd)
            if v is not None and v < 0:
                problems[p + sd] = f"Result row {i + 1}: an SD cannot be negative ({v:g})."
        for side in ("1", "2"):
            arm = _num(values, f"{p}arm{side}")
            if arm is None:
                continue
            if int(arm) - 1 not in arms:
                problems[f"{p}arm{side}"] = f"Result row {i + 1}: there is no arm {int(arm)}."
                continue
            randomised = _num(values, f"arms.{int(arm) - 1}.n")
            for key in (f"n{side}i", "ai" if side == "1" else "ci"):
                n = _num(values, p + key)
                if n is not None and randomised is not None and n > randomised:
                    problems[p + key] = (
                        f"Result row {i + 1}: {n:g} is more than the {randomised:g} "
                        f"randomised to arm {int(arm)}."
                    )
        out = _num(values, p + "outcome")
        if out is not None and int(out) - 1 not in outcomes:
            problems[p + "outcome"] = f"Result row {i + 1}: there is no outcome {int(out)}."
        for events, total in (("ai", "n1i"), ("ci", "n2i")):
            e, n = _num(values, p + events), _num(values, p + total)
            if e is not None and n is not None and e > n and (p + events) not in problems:
                problems[p + events] = (
                    f"Result row {i + 1}: more events ({e:g}) than people ({n:g})."
                )
        est, lb, ub = (_num(values, p + k) for k in ("yi", "ci_lb", "ci_ub"))
        if est is not None and lb is not None and ub is not None and not lb <= est <= ub:
            problems[p + "yi"] = (
                f"Result row {i + 1}: the CI {lb:g} to {ub:g} does not contain "
                f"the estimate {est:g}."
            )
        r = _num(values, p + "ri")
        if r is not None and not -1 <= r <= 1:
            problems[p + "ri"] = f"Result row {i + 1}: a correlation lies between -1 and 1."
        pv = _num(values, p + "pi")
        if pv is not None and not 0 <= pv <= 1:
            problems[p + "pi"] = f"Result row {i + 1}: a p-value lies between 0 and 1."
    return problems


def missing_required(schema: dict, values: dict) -> list[str]:
    """The labels of required fields left empty (group fields only for rows in use)."""
    out = []
    for sec in schema.get("sections", []):
        for f in sec["fields"]:
            if f["required"] and values.get(f["key"]) in (None, "", []):
                out.append(f["label"])
    for group in (*GROUPS, "results"):
        group_fields = RESULT_FIELDS if group == "results" else schema.get(group, [])
        for i in rows(values, group):
            for f in group_fields:
                if f["required"] and values.get(f"{group}.{i}.{f['key']}") in (None, "", []):
                    out.append(f"{f['label']} ({group} row {i + 1})")
    return out
