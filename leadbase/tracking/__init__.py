"""Tracking: the first-party snippet and pixel, and the events API (docs/tracking.md)."""
