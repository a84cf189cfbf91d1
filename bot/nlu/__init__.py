"""Spanish NLU for client messages: trámite (A-L), entities, global intents, yes/no.

Vocabulary lives in dialogs/rules/nlu.yaml; this package only applies it.
"""
from .analyze import NluResult, analyze
from .intents import global_intent, yes_no
from .normalise import normalise

__all__ = ["NluResult", "analyze", "global_intent", "normalise", "yes_no"]
