"""`python -m bot <command>`: every command uses the database named by DATABASE_URL.

Each command imports what it needs inside its own function, on purpose: the whole application
(FastAPI, every channel, dialog and page) takes about 2 s to import here, which `nlu`, `migrate` and
`chat` need not pay.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from bot.settings import get_settings

DEMO_CARTERA = Path(__file__).resolve().parents[1] / "demo" / "cartera"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Postventa Empresas")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database to the latest schema")
    imp = sub.add_parser("import-cartera", help="load the client portfolio CSV files of DIR")
    imp.add_argument("directory", type=Path)
    sub.add_parser("setup-demo", help="migrate and load the demo portfolio when the database is empty")
    serve = sub.add_parser("serve", help="web app and worker in one process (embedded default)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    worker = sub.add_parser("worker", help="deliver the outbox (and poll channels) continuously")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    chat = sub.add_parser("chat", help="talk to the bot in the terminal")
    chat.add_argument("--from", dest="sender", required=True, help="phone (+591...) or email")
    chat.add_argument("--today", type=date.fromisoformat, help="fix the date (YYYY-MM-DD)")
    sub.add_parser("nlu", help="classify Spanish text (see `python -m bot nlu --help`)", add_help=False)
    user = sub.add_parser("create-user", help="create a staff account (password read from stdin)")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True,
                      help="ejecutivo | gestor_comercial | gestor_tecnico | analista_tecnico | responsable")
    user.add_argument("--full-name", default="")
    user.add_argument("--email", default="")
    exp = sub.add_parser("export-client", help="all data of one client: JSON + documents")
    exp.add_argument("nit")
    exp.add_argument("--to", type=Path, default=Path("."), help="folder to write into")
    pur = sub.add_parser("purge-client", help="delete all data of one client (data-protection request)")
    pur.add_argument("nit")
    pur.add_argument("--yes", action="store_true", help="do it (without it, only say what would go)")
    rep = sub.add_parser("daily-report", help="send (or --print) the daily report of one working day")
    rep.add_argument("--date", type=date.fromisoformat, help="the day (YYYY-MM-DD); default today")
    rep.add_argument("--print", dest="print_only", action="store_true", help="print the text, send nothing")
    ret = sub.add_parser("retention", help="blank old message bodies, delete old document files now")
    ret.add_argument("--dry-run", action="store_true", help="only count what would go")
    dia = sub.add_parser("dialogs", help="dialog definitions")
    dia.add_argument("--diagram", type=Path, metavar="DIR", help="write one Mermaid file per dialog")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from bot.observability import logs

    # LOG_FORMAT=json: one JSON object per line with the correlation id (bot/observability/logs.py).
    logs.configure(level=get_settings().log_level, log_format=get_settings().log_format)
    if argv and argv[0] == "nlu":
        from bot.nlu.cli import run

        return run(argv[1:], sys.stdin, sys.stdout)
    args = _parser().parse_args(argv)
    return COMMANDS[args.command](args)


def cmd_migrate(args) -> int:
    from bot import migrate

    migrate.upgrade(get_settings().database_url)
    from bot.texts import render_cli

    print(render_cli("migrated"))
    return 0


def cmd_import(args) -> int:
    from bot.portfolio.cli import run_cli

    return run_cli(args.directory, get_settings().database_url, sys.stdout, sys.stderr)


def cmd_setup_demo(args) -> int:
    from bot import demo, migrate

    settings = get_settings()
    migrate.upgrade(settings.database_url)
    loaded = demo.load_if_empty(settings.database_url, DEMO_CARTERA, sys.stdout)
    from backoffice.cli import print_demo_staff

    print_demo_staff(settings.database_url, sys.stdout, create=loaded)
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from bot.app import create_app

    app = create_app(get_settings(), with_worker=True)
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=True)
    return 0


def cmd_worker(args) -> int:
    from bot.app.wiring import build_runtime

    runtime = build_runtime(get_settings())
    if args.once:
        runtime.worker.run_once()
    else:
        runtime.worker.run_forever()
    return 0


def cmd_chat(args) -> int:
    from bot.app.wiring import build_runtime
    from bot.clock import Clock, FixedDateClock
    from bot.messaging import ChannelRegistry
    from channels.console import ConsoleChannel, run_chat

    clock = FixedDateClock(args.today) if args.today else Clock()
    runtime = build_runtime(get_settings(), clock=clock, channels=ChannelRegistry(ConsoleChannel(sys.stdout)))
    try:
        run_chat(runtime, args.sender, sys.stdin, sys.stdout, interactive=sys.stdin.isatty())
    finally:
        runtime.engine.dispose()
    return 0


def cmd_create_user(args) -> int:
    from backoffice.cli import create_user

    return create_user(get_settings().database_url, args, sys.stdin, sys.stdout, sys.stderr)


def cmd_dialogs(args) -> int:
    from dialogs.registry import dialogs

    if args.diagram is None:
        for name, dialog in dialogs().items():
            print(f"{name}: {', '.join(dialog.state_names)}")
        return 0
    args.diagram.mkdir(parents=True, exist_ok=True)
    for name, dialog in dialogs().items():
        (args.diagram / f"{name}.mmd").write_text(dialog.mermaid(), encoding="utf-8")
        print(args.diagram / f"{name}.mmd")
    return 0


def cmd_export_client(args) -> int:
    from bot import privacy
    from bot.db import make_engine, make_session_factory, session_scope
    from bot.texts import render_cli

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            out = privacy.export_client(session, args.nit, args.to, settings.documents_dir)
    except LookupError:
        print(render_cli("unknown_nit", nit=args.nit), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(render_cli("client_exported", path=out))
    return 0


def cmd_purge_client(args) -> int:
    from bot import privacy
    from bot.db import make_engine, make_session_factory, session_scope
    from bot.texts import render_cli

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            counts = privacy.purge_client(session, args.nit, settings.documents_dir)
            if not args.yes:
                session.rollback()
    except LookupError:
        print(render_cli("unknown_nit", nit=args.nit), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(render_cli("client_purged", nit=args.nit, counts=counts, done=args.yes))
    return 0


def cmd_daily_report(args) -> int:
    from bot.clock import Clock
    from bot.db import make_engine, make_session_factory, session_scope
    from bot.reports import daily
    from bot.texts import long_date, render_cli
    from channels.email.sender import mail_sender

    settings = get_settings()
    clock = Clock()
    day = args.date or clock.today()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if args.print_only:
                print(daily.render(daily.compute(session, day, settings))[1], end="")
                return 0
            recipients = daily.recipients(session, settings)
            for address in recipients:
                daily.send_report(session, settings, day=day, to=address, now=clock.now(),
                                  send_mail=mail_sender(settings))
    finally:
        engine.dispose()
    print(render_cli("daily_report_sent", day=long_date(day), recipients=recipients))
    return 0


def cmd_retention(args) -> int:
    from bot import retention
    from bot.clock import Clock
    from bot.db import make_engine, make_session_factory, session_scope
    from bot.texts import render_cli

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            report = retention.run(session, settings=settings, now=Clock().now(), dry_run=args.dry_run)
    finally:
        engine.dispose()
    print(render_cli("retention", report=report, settings=settings, dry_run=args.dry_run))
    return 0


COMMANDS = {
    "migrate": cmd_migrate,
    "import-cartera": cmd_import,
    "setup-demo": cmd_setup_demo,
    "serve": cmd_serve,
    "worker": cmd_worker,
    "chat": cmd_chat,
    "dialogs": cmd_dialogs,
    "create-user": cmd_create_user,
    "export-client": cmd_export_client,
    "purge-client": cmd_purge_client,
    "daily-report": cmd_daily_report,
    "retention": cmd_retention,
}
