"""Risk of bias (issue 17): the review's tool settings and the assessments of its studies.

App label ``extraction`` (imported at the end of ``extraction/models.py`` so Django finds them).

An assessment is one person's (``kind`` assessor) or the consensus's judgement of one study,
per study (``outcome`` "") or per outcome (``outcome`` the outcome's name). ``answers`` holds
the signalling answers by domain key (``{"D1": {"1.1": "Y", ...}}``), ``support`` the free-text
support by domain and question (``{"D1": {"1.1": "...", "_": "domain support"}}``) and
``domains`` each domain's judgement: ``{"D1": {"proposed": "Low"|None, "judgement": "Low",
"justification": ""}}`` where a judgement that differs from the proposed one needs a written
justification (an override). The RoB 2 domain 2 is stored under ``D2`` and answered in the
variant ``d2_variant`` (``assignment`` or ``adhering``). Two assessors work blinded until both
marked theirs done (``extraction.rob.selectors.sees_all_assessments``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reviews.models import Review


class RobTool(models.TextChoices):
    ROB2 = "rob2", "RoB 2 (randomised trials)"
    ROBINS_I = "robins_i", "ROBINS-I (non-randomised studies)"
    CUSTOM = "custom", "Custom tool"


class RobSettings(models.Model):
    """The review's risk-of-bias tool, chosen by a lead; per study unless ``per_outcome``."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="rob_settings")
    tool = models.CharField(max_length=12, choices=RobTool.choices, default=RobTool.ROB2)
    per_outcome = models.BooleanField(default=False)
    #: custom tool only: its name, domains ``[{"id": "D1", "name": "..."}]``, judgements (best
    #: first) and the judgements that count as high risk
    custom_name = models.CharField(max_length=200, blank=True)
    custom_domains = models.JSONField(default=list, blank=True)
    custom_judgements = models.JSONField(default=list, blank=True)
    custom_high = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "risk-of-bias settings"

    def __str__(self) -> str:
        return f"Risk-of-bias settings of {self.review}"


class RobAssessment(models.Model):
    """One assessor's risk-of-bias assessment of a study (and outcome), or its consensus."""

    class Kind(models.TextChoices):
        ASSESSOR = "assessor", "Assessor"
        CONSENSUS = "consensus", "Consensus"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rob_assessments")
    study = models.ForeignKey(
        "extraction.Study", on_delete=models.CASCADE, related_name="rob_assessments"
    )
    outcome = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.ASSESSOR)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assessor_name = models.CharField(max_length=150, blank=True)  # see screening.models.Vote
    tool = models.CharField(max_length=12, choices=RobTool.choices)
    d2_variant = models.CharField(max_length=12, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    support = models.JSONField(default=dict, blank=True)
    domains = models.JSONField(default=dict, blank=True)
    overall_proposed = models.CharField(max_length=40, blank=True)
    overall = models.CharField(max_length=40, blank=True)
    overall_justification = models.TextField(blank=True)
    done = models.BooleanField(default=False)
    #: consensus only: the domains someone resolved (picked A, B or judged anew)
    resolved = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "outcome", "kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "outcome", "assessor"],
                condition=models.Q(kind="assessor"),
                name="uniq_rob_per_assessor",
            ),
            models.UniqueConstraint(
                fields=["study", "outcome"],
                condition=models.Q(kind="consensus"),
                name="uniq_rob_consensus",
            ),
        ]

    def __str__(self) -> str:
        who = "consensus" if self.kind == self.Kind.CONSENSUS else "assessment"
        on = f" ({self.outcome})" if self.outcome else ""
        return f"risk-of-bias {who} of {self.study}{on}"

    @property
    def overridden(self) -> bool:
        return bool(self.overall_justification) and self.overall != self.overall_proposed
