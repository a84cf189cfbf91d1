"""Reading a client's answer: the shared parsers every dialog uses, in one place.

The NLU (`bot.nlu`) reads a whole message (trámite, entities, yes/no); these modules read the
answer to one question of a dialog: words of a vocabulary file, an option number of a list, a
date written alone, a phone, a month, an amount of the tariffs. Dialogs keep their trámite's own
rules (plans, penalties, addresses) and declare what they ask in `slots` (`slots.py`).

Three word matchers live here and stay apart on purpose, each with the vocabulary file its
dialogs were written and tested against: `words` (phonetic folding before the typo check),
`phrases` (words compared as written, overlapping hits resolved) and `mentions` (whole phrases
in normalised text). Merging them would change what a trámite understands.
"""
