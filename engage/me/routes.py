"""A parent's own page: /me, signed in with a code texted to their phone."""
