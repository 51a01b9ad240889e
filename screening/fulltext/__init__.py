"""Full-text assessment: the report of each record included at title and abstract (an uploaded
PDF, a link, or a note that it could not be obtained), its services, reads, forms and pages.

The votes on a report are screening's, cast at the full-text stage through
``screening.services``; this package holds what only full text has.
"""
