"""The trained NLU model file (hybrid.npz), written by `python -m bot nlu --train`."""
