"""Dialogs: one declarative table of states and transitions per trámite, run on `transitions`."""
