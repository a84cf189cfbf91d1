"""Email channel: IMAP in (inbound.py, ingest.py), SMTP out (sender.py); wiring.py turns it on."""
