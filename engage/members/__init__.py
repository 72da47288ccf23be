"""Members (parents and caregivers): joining, confirming, their own data."""
