"""The composition root: the only package that imports channels/, dialogs/ and backoffice/.

`bot.app:create_app` is the web factory (Procfile, uvicorn --factory); `bot.app.cli` the commands.
"""
from bot.app.web import create_app

__all__ = ["create_app"]
