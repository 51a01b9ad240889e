"""Choices and limits of data extraction."""

from __future__ import annotations

from reviews.constants import Role

#: Who links reports to studies (a lead may do everything).
STUDY_ROLES = (Role.EXTRACTOR,)
MAX_LABEL = 200
MAX_NOTES = 5000
#: Titles at least this similar (difflib's ratio of the normalised words) are suggested.
TITLE_SIMILARITY = 0.85
#: Who fills extraction forms and marks them done (a lead may do everything); the form itself
#: and the consensus are a lead's, or (consensus) a third extractor's.
EXTRACT_ROLES = (Role.EXTRACTOR,)
FORM_ROLES = (Role.LEAD,)


class StudyStatus:
    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    DONE = "done"
    CONSENSUS = "consensus"


#: Who freezes the consensus as a snapshot: leads only.
FINALISE_ROLES = (Role.LEAD,)
