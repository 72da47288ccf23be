"""Web sign-up: /join."""
