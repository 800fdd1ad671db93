"""Outbound delivery tasks (webhooks, postbacks)."""
