"""The one exception type that means "the user gave us something we cannot use"."""


class UserError(Exception):
    """Bad input from the user: a missing file, an impossible config value, a broken checkpoint.

    The message says what is wrong and what to do about it. The command line prints it as one
    line, `error: <message>`, and exits non-zero without a traceback.
    """


class ReportedElsewhere(UserError):
    """A UserError that another training process reports (rank 0): this one ends with the same
    exit status, without a second `error:` line."""
