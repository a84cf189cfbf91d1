"""Logs with a correlation id, the request middleware and /metrics (see README, Operación)."""
