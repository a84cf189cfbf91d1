"""`python -m bot.nlu "texto"`: the nlu command without the bot's CLI."""
import sys

from .cli import run

raise SystemExit(run(sys.argv[1:], sys.stdin, sys.stdout))
