"""Exit codes and the usage error every command shares."""

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Wrong arguments; the message is for the user, in Chinese (exit code 2)."""
