"""Stipends and reimbursements: the coordinator's approvals, payments, totals and exports; a parent's own."""

from __future__ import annotations

from engage.supports import stipends_bp  # noqa: F401
