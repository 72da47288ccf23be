"""Input to decision for parents, CBO staff and the public: the input form, a person's own
timeline, and the committee's "you said, we did"."""

from __future__ import annotations

from engage.feedback import bp  # noqa: F401
