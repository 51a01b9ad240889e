"""What screening lets the later steps join (see :mod:`core.hooks`)."""

from core.hooks import Hook

#: Asked with ``review`` whenever the PRISMA diagram, the dashboard or an export counts the
#: studies included (``screening.selectors.boxes.studies_included``). Screening knows the
#: reports included at full text; which reports are one study is data extraction's to say
#: (``extraction.selectors.studies_included``). A receiver returns the number of studies, or
#: None to leave it to the next; without an answer each included report is one study.
studies_included = Hook("screening.studies_included")
