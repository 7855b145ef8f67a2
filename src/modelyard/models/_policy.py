"""The policy hook every alias move goes through.

A policy is a callable taking the proposed ``AliasChange`` (model, alias, before, after,
actor) and raising ``PolicyDenied`` to refuse it. It runs inside the write transaction,
after the current target is read and before anything changes, so a refusal leaves the alias
and its history untouched. Governance (approvals, required checks) plugs in here; until
then the default allows everything.
"""

from __future__ import annotations

from collections.abc import Callable

from modelyard.domain.models import AliasChange

AliasPolicy = Callable[[AliasChange], None]


def allow_all(change: AliasChange) -> None:
    """The default policy: every alias move is allowed."""
