"""CLI commands beyond the foundation: users, backup and restore."""

from __future__ import annotations


def add_commands(sub) -> None:
    return None


def dispatch(args, path) -> int:
    raise NotImplementedError(args.cmd)
