"""Reports sent to staff by email (the daily report of procedure J.10 / K.10)."""
