"""Errors a user can act on: one line that says what is wrong and what to do."""


class SuiteError(Exception):
    """Bad input, a missing prerequisite or a failed step, reported before expensive work where possible.

    Every error of the suite and of the offline build derives from it, so a
    fixture catches one type and reports one line.
    """
