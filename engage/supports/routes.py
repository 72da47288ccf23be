"""Asking for supports and arranging them: parents on the web, CBO staff for a family, coordinators."""

from __future__ import annotations

from engage.supports import bp  # noqa: F401
