"""Choices of the protocol. The statistical ones name what ``synthesis/stats/`` computes (the
protocol may not import it: synthesis is above reviews); ``tests/reviews/test_protocol.py``
checks that they stay the engine's."""

from django.db import models


class Registry(models.TextChoices):
    PROSPERO = "prospero", "PROSPERO"
    OSF = "osf", "OSF Registries"
    INPLASY = "inplasy", "INPLASY"
    OTHER = "other", "Other"


class VersionKind(models.TextChoices):
    ORIGINAL = "original", "Protocol"
    AMENDMENT = "amendment", "Amendment"


#: Effect measures, as ``synthesis.stats.escalc.MEASURES``.
EFFECT_MEASURES = (
    ("SMD", "Standardised mean difference (Hedges' g)"),
    ("MD", "Mean difference"),
    ("OR", "Odds ratio (log)"),
    ("RR", "Risk ratio (log)"),
    ("RD", "Risk difference"),
    ("ZCOR", "Correlation (Fisher's z)"),
    ("COR", "Correlation (raw)"),
    ("PLO", "Proportion (logit)"),
    ("PR", "Proportion (raw)"),
)
#: Models: a common (fixed) effect, or random effects with a tau-squared estimator.
MODELS = (("random", "Random effects"), ("common", "Common effect (fixed effect)"))
#: The random-effects tau-squared estimators, as ``synthesis.stats.METHODS`` (without FE).
TAU2_ESTIMATORS = (
    ("REML", "Restricted maximum likelihood (REML)"),
    ("DL", "DerSimonian-Laird (DL)"),
    ("PM", "Paule-Mandel (PM)"),
    ("ML", "Maximum likelihood (ML)"),
    ("HE", "Hedges (HE)"),
    ("SJ", "Sidik-Jonkman (SJ)"),
    ("EB", "Empirical Bayes (EB)"),
)
#: What ``synthesis.stats.pubbias`` and the funnel plot offer.
PUBLICATION_BIAS = (
    ("funnel", "Funnel plot"),
    ("egger", "Egger's regression test"),
    ("rank", "Begg's rank correlation test"),
    ("trimfill", "Trim-and-fill"),
)
ROB_TOOLS = (
    ("rob2", "RoB 2 (randomised trials)"),
    ("robins_i", "ROBINS-I (non-randomised studies of interventions)"),
    ("robins_e", "ROBINS-E (non-randomised studies of exposures)"),
    ("nos", "Newcastle-Ottawa Scale"),
    ("quadas2", "QUADAS-2 (diagnostic accuracy)"),
    ("jbi", "JBI critical appraisal checklists"),
    ("custom", "A tool of the team's own"),
    ("none", "No risk-of-bias assessment"),
)
