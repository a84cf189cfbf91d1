"""The daily report (procedure J.10 and K.10): at the end of each working day an email to the
responsables and the jefe de división summarises the day per person. It replaces the corporate
email each analyst wrote by hand.

Counted from the append-only case events, the way backoffice/kpis.py counts:

- opened: `opened` events, per the client's ejecutivo(a) (the cartera the case belongs to, as the
  indicators count "per ejecutivo");
- derived, resolved (`resolved` and `no_feasibility`), closed (`closed`): per staff member who did it;
- quality checks asked / effective / reopened / unanswered (`quality_check_sent`, `quality_ok`,
  `quality_failed`, `quality_no_answer`): per the client's ejecutivo(a), who owns the quality call;
- campaign answers: campaign_sends answered that day, per campaign and per the client's ejecutivo(a);
- visits done: visits.done_at that day, per technician (technicians are not staff accounts).

The run is a durable job at DAILY_REPORT_TIME on working days (Monday to Friday, national and
departmental holidays of the `holidays` package skipped); it schedules one mail job per recipient,
so a recipient whose server refuses is retried without sending the others twice, and it schedules
the next working day's run (dedupe_key "daily-report:YYYY-MM-DD").
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.messaging import MailSender
from bot.models import CampaignSend, Case, CaseEvent, Client, Staff, Visit
from bot.rules import role_names
from bot.scheduler import JobContext, schedule
from bot.settings import Settings

RUN_JOB = "daily_report"
MAIL_JOB = "daily_report_mail"

# case event kind -> report column, and whether the person is the actor or the client's ejecutivo
BY_ACTOR = {"derived": "derived", "resolved": "resolved", "no_feasibility": "resolved", "closed": "closed"}
BY_CARTERA = {"opened": "opened", "quality_check_sent": "quality_asked", "quality_ok": "quality_ok",
              "quality_failed": "quality_failed", "quality_no_answer": "quality_no_answer"}
COLUMNS = ("opened", "derived", "resolved", "closed", "quality_asked", "quality_ok", "quality_failed",
           "quality_no_answer", "campaign_answers")


@dataclass
class PersonDay:
    key: str  # staff username ("" for cases of clients without an ejecutivo(a))
    name: str
    role: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    campaigns: dict[str, int] = field(default_factory=dict)  # campaign -> answers


@dataclass
class DailyReport:
    day: date
    people: list[PersonDay]
    totals: dict[str, int]
    campaigns: dict[str, int]
    visits: dict[str, int]  # technician -> visits done


# --- when ----------------------------------------------------------------------------------------
@lru_cache
def _holidays(subdivision: str, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("BO", subdiv=subdivision or None, years=year)


def is_working_day(day: date, settings: Settings) -> bool:
    return day.weekday() < 5 and day not in _holidays(settings.holidays_subdivision, day.year)


def local_bounds(day: date, settings: Settings) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def run_at(settings: Settings, day: date) -> datetime:
    local = datetime.combine(day, time.fromisoformat(settings.daily_report_time), tzinfo=ZoneInfo(settings.timezone))
    return local.astimezone(UTC)


def next_day(settings: Settings, now: datetime) -> date:
    """The first working day whose report time is still ahead of `now`."""
    day = now.astimezone(ZoneInfo(settings.timezone)).date()
    while not (is_working_day(day, settings) and run_at(settings, day) > now):
        day += timedelta(days=1)
    return day


def schedule_run(session: Session, *, settings: Settings, day: date, now: datetime) -> int | None:
    return schedule(session, kind=RUN_JOB, due_at=run_at(settings, day), payload={"date": day.isoformat()},
                    dedupe_key=f"daily-report:{day.isoformat()}", now=now)


def enabled(settings: Settings) -> bool:
    return bool(settings.daily_report_time)  # DAILY_REPORT_TIME empty: no daily report


def schedule_first(session: Session, *, settings: Settings, now: datetime) -> int | None:
    """The coming report; the worker calls it once when it starts (bot.scheduler.Bootstrap)."""
    return schedule_run(session, settings=settings, day=next_day(settings, now), now=now)


# --- what ------------------------------------------------------------------------------------------
def compute(session: Session, day: date, settings: Settings) -> DailyReport:
    start, end = local_bounds(day, settings)
    staff = {s.username: s for s in session.scalars(select(Staff))}
    people: dict[str, PersonDay] = {}

    def person(username: str | None) -> PersonDay:
        username = username or ""
        if username not in people:
            member = staff.get(username)
            people[username] = PersonDay(username, (member.full_name or username) if member else username,
                                         member.role if member else "")
        return people[username]

    ejecutivo = (select(Staff.username).where(Staff.id == Client.ejecutivo_id).scalar_subquery())
    events = session.execute(
        select(CaseEvent.kind, CaseEvent.actor, ejecutivo.label("ejecutivo"))
        .join(Case, Case.id == CaseEvent.case_id).join(Client, Client.id == Case.client_id)
        .where(CaseEvent.at >= start, CaseEvent.at < end, CaseEvent.kind.in_([*BY_ACTOR, *BY_CARTERA]))
    )
    for kind, actor, owner in events:
        if kind in BY_ACTOR:
            person(actor).counts[BY_ACTOR[kind]] += 1
        else:
            person(owner).counts[BY_CARTERA[kind]] += 1

    campaigns: dict[str, int] = defaultdict(int)
    answers = session.execute(
        select(CampaignSend.campaign, ejecutivo.label("ejecutivo"))
        .join(Client, Client.id == CampaignSend.client_id)
        .where(CampaignSend.answered_at >= start, CampaignSend.answered_at < end)
    )
    for campaign, owner in answers:
        row = person(owner)
        row.counts["campaign_answers"] += 1
        row.campaigns[campaign] = row.campaigns.get(campaign, 0) + 1
        campaigns[campaign] += 1

    visits: dict[str, int] = defaultdict(int)
    for technician in session.scalars(select(Visit.technician).where(Visit.done_at >= start, Visit.done_at < end)):
        visits[technician] += 1

    ordered = sorted(people.values(), key=lambda p: (p.key == "", p.name.lower()))
    totals = {column: sum(p.counts[column] for p in ordered) for column in COLUMNS}
    return DailyReport(day=day, people=ordered, totals=totals, campaigns=dict(sorted(campaigns.items())),
                       visits=dict(sorted(visits.items())))


def recipients(session: Session, settings: Settings) -> list[str]:
    """Active responsables with an email, then DAILY_REPORT_TO; each address once."""
    responsables = session.scalars(select(Staff.email).where(Staff.role == "responsable", Staff.active.is_(True),
                                                             Staff.email != "").order_by(Staff.id))
    extra = [a.strip() for a in settings.daily_report_to.split(",")]
    return list(dict.fromkeys(a.lower() for a in [*responsables, *extra] if "@" in a))


def render(report: DailyReport) -> tuple[str, str, str]:
    """Subject, plain text and HTML (templates/email/daily_report*)."""
    env = texts.environment()
    context = {"report": report, "day": texts.long_date(report.day), "role_names": role_names()}
    subject = " ".join(env.get_template("email/daily_report_subject.txt").render(**context).split())
    return (subject, env.get_template("email/daily_report.txt").render(**context).strip() + "\n",
            env.get_template("email/daily_report.html").render(**context))


# --- sending -----------------------------------------------------------------------------------------
def compose(settings: Settings, *, to: str, report: DailyReport, now: datetime) -> EmailMessage:
    subject, text, html = render(report)
    mime = EmailMessage()
    mime["From"] = formataddr((settings.email_from_name, settings.email_from))
    mime["To"] = to
    mime["Subject"] = subject
    mime["Date"] = format_datetime(now)
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: nobody should auto-reply to a report
    mime.set_content(text)
    mime.add_alternative(html, subtype="html")
    return mime


def send_report(session: Session, settings: Settings, *, day: date, to: str, now: datetime,
                send_mail: MailSender) -> EmailMessage:
    """`send_mail`: the email channel's own SMTP code (TLS, auth, error classes), given by the
    composition root; an error raises and the scheduler retries the mail job with backoff."""
    mime = compose(settings, to=to, report=compute(session, day, settings), now=now)
    send_mail(mime, to)
    return mime


# --- jobs ------------------------------------------------------------------------------------------
def run(ctx: JobContext) -> None:
    session, now, settings = ctx.session, ctx.now, ctx.runtime
    day = date.fromisoformat(ctx.job.payload["date"])
    for address in recipients(session, settings):
        schedule(session, kind=MAIL_JOB, due_at=now, payload={"date": day.isoformat(), "to": address},
                 dedupe_key=f"daily-report:{day.isoformat()}:{address}", now=now)
    if settings.daily_report_time:
        schedule_run(session, settings=settings, day=next_day(settings, run_at(settings, day)), now=now)


def handlers(send_mail: MailSender) -> dict:
    """The job handlers, bound to the process's mail sender."""

    def mail(ctx: JobContext) -> None:
        payload = ctx.job.payload
        send_report(ctx.session, ctx.runtime, day=date.fromisoformat(payload["date"]), to=payload["to"],
                    now=ctx.now, send_mail=send_mail)

    return {RUN_JOB: run, MAIL_JOB: mail}
