"""WhatsApp through Twilio: signed webhooks in, the REST API out (through the outbox).

    routes.py     HTTP only: inbound webhook, status callback, signed document links
    signature.py  X-Twilio-Signature (HMAC-SHA1 with the Auth Token, HMAC-SHA256 webhook rules)
    inbound.py    Twilio's form -> InboundMessage, then engine + media job
    media.py      the media job: download (Twilio hosts only), hand the files to the engine
    sender.py     the outbound Channel adapter (twilio's client.messages.create)
    window.py     WhatsApp's 24-hour rule and the approved templates per purpose
    status.py     delivery status callbacks, applied monotonically
    links.py      signed, expiring URLs of our documents, for media we send
    wiring.py     registers all of it when TWILIO_ACCOUNT_SID is set
"""
