"""The project's exceptions: library code raises these, the CLI turns them into a message.

Every failure a user can cause or fix (bad data, a failed check, a missing input, a broken
config) is an :class:`AsrloopError` whose message names the file, row or key at fault. The CLI
(:mod:`asrloop.cli`) prints ``asrloop <command>: <message>`` and exits with ``exit_code``; no code
below the CLI calls ``sys.exit`` or raises ``SystemExit``.
"""

from __future__ import annotations


class AsrloopError(Exception):
    """Base class: a failure with a message for people and an exit code for scripts."""

    exit_code = 1


class ConfigError(AsrloopError, ValueError):
    """A config value or override that cannot work (names the key)."""

    exit_code = 2


class DataError(AsrloopError, ValueError):
    """Input data that breaks a contract (names the file, the row and the field)."""


class MissingInputError(AsrloopError, FileNotFoundError):
    """A step's input does not exist yet: the message says which step makes it."""


class ChecksFailed(AsrloopError):
    """Data or model checks found errors; the message names the failed checks and report."""


class StepFailed(AsrloopError):
    """A pipeline stage or external tool (dvc, git) failed; the message has its output."""


class RegistryError(AsrloopError):
    """The model registry or tracking server could not answer (never means "no model")."""
