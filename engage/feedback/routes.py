"""Input to decision: the parent's form, the coordinator's triage, decisions and measures,
and the public "you said, we did"."""

from __future__ import annotations

from engage.feedback import bp  # noqa: F401
