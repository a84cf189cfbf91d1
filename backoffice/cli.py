"""The back-office parts of `python -m bot`: create-user and the demo accounts of setup-demo."""
from __future__ import annotations

import getpass
from typing import TextIO

from backoffice import accounts
from bot.db import make_engine, make_session_factory, session_scope
from bot.texts import render_cli


def _read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass(render_cli("backoffice/password_prompt"))
    return stdin.readline().rstrip("\r\n")


def create_user(database_url: str, args, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    password = _read_password(stdin)
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            staff, created = accounts.create_or_update(
                session, username=args.username, role=args.role, password=password,
                full_name=args.full_name, email=args.email)
            stdout.write(render_cli("backoffice/user_saved", staff=staff, created=created) + "\n")
        return 0
    except accounts.InvalidAccount as exc:
        stderr.write(render_cli("backoffice/user_invalid", reason=exc.reason,
                                min_password=accounts.MIN_PASSWORD) + "\n")
        return 2
    finally:
        engine.dispose()


def print_demo_staff(database_url: str, out: TextIO, *, create: bool) -> None:
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            ready = accounts.ensure_demo_staff(session, create=create)
        if ready:
            out.write(render_cli("backoffice/demo_staff", accounts=ready) + "\n")
    finally:
        engine.dispose()
