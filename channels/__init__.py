"""Channel adapters: each turns a provider's message into one neutral InboundMessage and sends
OutboundMessages back. A new channel is one module plus one registry line."""
