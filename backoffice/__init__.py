"""The staff back-office: accounts and sessions, the work queue, the case page with its actions,
conversation takeover, indicators, procedure diagrams, the visit schedule and the demo simulator.

Routes are thin (HTTP only); rules live in the service modules; every query in `repository`.
"""
