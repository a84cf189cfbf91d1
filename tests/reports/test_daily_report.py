"""Daily report (procedure J.10 / K.10): one local working day summarised per person from the case
events, campaign answers and visits, mailed at DAILY_REPORT_TIME to the active responsables and
DAILY_REPORT_TO through the real SMTP server, weekends and holidays skipped, retried on failure."""
from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backoffice.visits import technicians
from bot import cases, quality
from bot.models import CampaignSend, Client, Job, Staff, Visit
from bot.reports import daily
from bot.settings import Settings
from tests.cli.test_commands import run_bot

LA_PAZ = ZoneInfo("America/La_Paz")
DAY = date(2026, 11, 30)  # a Monday; the test clock starts on Saturday 28th
IMPORTADORA = "1020304021"  # ejecutivo mrojas
TUNARI = "1029384017"  # ejecutivo lvargas
RESPONSABLE = "responsable@comteco.com.bo"
JEFE = "jefe.division@comteco.com.bo"


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A La Paz wall-clock time, stored as the application stores it: UTC."""
    return datetime.combine(day, time(hour, minute), LA_PAZ).astimezone(UTC)


def seed(sessions) -> str:
    """One day of work, plus activity just outside it. Returns the first technician's name."""
    with sessions.begin() as s:
        s.add_all([Staff(username="gtecnico", full_name="Gustavo Téllez", role="gestor_tecnico", active=True),
                   Staff(username="resp", full_name="Rosa Soria", role="responsable", active=True,
                         email="Responsable@Comteco.com.bo"),
                   Staff(username="resp_old", role="responsable", active=False, email="antes@comteco.com.bo")])
        s.execute(Staff.__table__.update().where(Staff.username == "mrojas").values(email="mrojas@comteco.com.bo"))
        importadora = s.scalar(select(Client).where(Client.nit == IMPORTADORA))
        tunari = s.scalar(select(Client).where(Client.nit == TUNARI))

        def open_case(client, when):
            return cases.open_case(s, tramite="A", client_id=client.id, conversation_id=None, role="ejecutivo",
                                   assignee_id=client.ejecutivo_id, now=when, sla_hours=24)

        first = open_case(importadora, at(9))
        late = open_case(importadora, at(23, 30))  # 03:30 UTC on Dec 1st: still Monday in La Paz
        denied = open_case(tunari, at(10))
        yesterday = open_case(tunari, at(17, day=DAY - timedelta(days=1)))
        open_case(tunari, at(0, 30, day=DAY + timedelta(days=1)))  # Tuesday: not this report

        cases.add_event(s, case=first, now=at(11), actor="gtecnico", kind="derived",
                        detail={"from": "ejecutivo", "to": "gestor_tecnico"})
        cases.add_event(s, case=first, now=at(12), actor="gtecnico", kind="resolved")
        cases.add_event(s, case=first, now=at(12, 1), actor="bot", kind="quality_check_sent")
        quality.confirm(s, first, now=at(15), words="sí, ya funciona")
        cases.add_event(s, case=late, now=at(16), actor="mrojas", kind="closed")
        cases.add_event(s, case=denied, now=at(13), actor="gtecnico", kind="no_feasibility")
        cases.add_event(s, case=denied, now=at(13, 5), actor="bot", kind="quality_check_sent")
        quality.reopen(s, denied, now=at(14), words="sigue sin funcionar", sla_hours=24)
        quality.ask_ejecutivo_to_call(s, yesterday, now=at(16), note="")
        cases.add_event(s, case=yesterday, now=at(18, day=DAY - timedelta(days=1)), actor="gtecnico",
                        kind="resolved")  # Sunday's work is not Monday's

        def answered(client, campaign, channel, when):
            s.add(CampaignSend(campaign=campaign, run="r", client_id=client.id, channel=channel, address="x",
                               status="sent", answer="paid" if when else "", words="", outcome="",
                               created_at=at(8, day=DAY - timedelta(days=3)), answered_at=when))

        answered(importadora, "mora", "whatsapp", at(10))
        answered(importadora, "mora", "email", None)  # never answered
        answered(tunari, "fidelizacion", "whatsapp", at(11))
        answered(tunari, "mora", "email", at(11, day=DAY - timedelta(days=1)))

        technician = technicians()[0]
        for slot, done in (("manana", at(11)), ("tarde", at(15)), ("noche", at(15, day=DAY - timedelta(days=1)))):
            s.add(Visit(client_id=tunari.id, visit_date=DAY, slot=slot, technician=technician, status="realizada",
                        created_at=at(8, day=DAY - timedelta(days=5)), done_at=done))
    return technician


# Counted by hand from seed(): opened per client's ejecutivo, derived/resolved/closed per actor,
# quality per client's ejecutivo, campaign answers per client's ejecutivo.
EXPECTED = {
    "gtecnico": {"derived": 1, "resolved": 2},
    "lvargas": {"opened": 1, "quality_asked": 1, "quality_failed": 1, "quality_no_answer": 1, "campaign_answers": 1},
    "mrojas": {"opened": 2, "closed": 1, "quality_asked": 1, "quality_ok": 1, "campaign_answers": 1},
}


def test_the_day_is_counted_per_person_in_local_time(demo):
    technician = seed(demo.sessions)
    with demo.sessions() as session:
        report = daily.compute(session, DAY, Settings(database_url=demo.url))
    assert {p.key: {k: v for k, v in p.counts.items() if v} for p in report.people} == EXPECTED
    assert {p.key: p.campaigns for p in report.people} == {"gtecnico": {}, "lvargas": {"fidelizacion": 1},
                                                           "mrojas": {"mora": 1}}
    assert report.totals == {"opened": 3, "derived": 1, "resolved": 2, "closed": 1, "quality_asked": 2,
                             "quality_ok": 1, "quality_failed": 1, "quality_no_answer": 1, "campaign_answers": 2}
    assert report.campaigns == {"fidelizacion": 1, "mora": 1}
    assert report.visits == {technician: 2}


def _mails(app):
    out = {}
    for received in app.smtp.received:
        mime = email.message_from_bytes(received.raw, policy=email.policy.default)
        [to] = received.rcpt_tos
        out.setdefault(to, []).append(mime)
    return out


def _part(mime, kind):
    [part] = [p for p in mime.walk() if p.get_content_type() == kind]
    return part.get_content().replace("\r\n", "\n")


def _jobs(app, kind):
    with app.runtime.sessions() as session:
        return list(session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))


def _start(campaigns):
    return campaigns(mora_run_day=0, daily_report_time="18:30", daily_report_to=f"{JEFE}, Responsable@comteco.com.bo")


def _to(app, moment):
    app.clock.advance(seconds=(moment - app.clock.now()).total_seconds())


def test_the_report_is_mailed_at_the_end_of_the_working_day(campaigns):
    app = _start(campaigns)
    seed(app.runtime.sessions)
    app.run_worker()  # Saturday: the first run is Monday's, weekends have none
    [job] = _jobs(app, daily.RUN_JOB)
    assert job.dedupe_key == "daily-report:2026-11-30"
    assert job.due_at.replace(tzinfo=UTC) == datetime(2026, 11, 30, 22, 30, tzinfo=UTC)  # 18:30 La Paz

    _to(app, datetime(2026, 11, 30, 22, 29, tzinfo=UTC))
    app.run_worker()
    assert app.smtp.received == []
    _to(app, datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    app.run_worker()
    app.run_worker()

    mails = _mails(app)
    # The active responsable (once, whatever the case of the address) and the jefe de división;
    # not the inactive responsable, not an ejecutiva.
    assert sorted(mails) == [JEFE, RESPONSABLE] and all(len(m) == 1 for m in mails.values())
    [mime] = mails[RESPONSABLE]
    assert "30 de noviembre de 2026" in mime["Subject"]
    text = _part(mime, "text/plain")
    gustavo = text.split("Gustavo Téllez (")[1].split("\n\n")[0]
    assert "- Derivados: 1" in gustavo and "- Resueltos: 2" in gustavo and "Casos abiertos" not in gustavo
    marcela = text.split("mrojas (")[1].split("\n\n")[0]
    assert "- Casos abiertos: 2" in marcela and "- Control de calidad: efectivos: 1" in marcela
    assert "  - Mora: 1" in marcela
    html = _part(mime, "text/html")
    assert '<td style="text-align: right;" data-column="opened">2</td>' in html

    # Tuesday's run is scheduled once; running again sends nothing twice.
    [_, tuesday] = _jobs(app, daily.RUN_JOB)
    assert tuesday.dedupe_key == "daily-report:2026-12-01"
    assert tuesday.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 1, 22, 30, tzinfo=UTC)
    app.run_worker()
    assert len(app.smtp.received) == 2


def test_a_refused_mail_is_retried_without_mailing_the_others_twice(campaigns):
    app = _start(campaigns)
    app.run_worker()
    app.smtp.handler.refuse_next = 1  # 451: the first recipient's server says "try later"
    _to(app, datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    app.run_worker()
    app.run_worker()
    assert len(app.smtp.received) == 1
    [failed] = [j for j in _jobs(app, daily.MAIL_JOB) if j.status == "pending"]
    assert failed.attempts == 1 and "451" in failed.last_error
    app.clock.advance(minutes=2)  # the scheduler's backoff after a first failure: 1 minute
    app.run_worker()
    mails = _mails(app)
    assert sorted(mails) == [JEFE, RESPONSABLE] and all(len(m) == 1 for m in mails.values())


def test_weekends_and_bolivian_holidays_have_no_report():
    settings = Settings(daily_report_time="18:30")
    evening = lambda d: datetime.combine(d, time(19, 0), LA_PAZ)  # after that day's report
    morning = lambda d: datetime.combine(d, time(9, 0), LA_PAZ)
    assert daily.next_day(settings, morning(date(2026, 11, 30))) == date(2026, 11, 30)  # Monday: today
    assert daily.next_day(settings, evening(date(2026, 11, 27))) == date(2026, 11, 30)  # Friday -> Monday
    # Monday 2 November 2026 is Todos Santos (national).
    assert daily.next_day(settings, evening(date(2026, 10, 30))) == date(2026, 11, 3)
    # Monday 14 September is Cochabamba's day: a holiday in Cochabamba (C), not in La Paz (L).
    assert daily.next_day(settings, evening(date(2026, 9, 11))) == date(2026, 9, 15)
    la_paz = Settings(daily_report_time="18:30", holidays_subdivision="L")
    assert daily.next_day(la_paz, evening(date(2026, 9, 11))) == date(2026, 9, 14)


def test_the_command_prints_one_day(demo):
    seed(demo.sessions)
    result = run_bot("daily-report", "--date", DAY.isoformat(), "--print", url=demo.url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Informe del trabajo realizado durante la jornada del 30 de noviembre de 2026.")
    lucia = result.stdout.split("lvargas (")[1].split("\n\n")[0]
    assert "- Control de calidad: reabiertos: 1" in lucia and "  - Fidelización: 1" in lucia
    with demo.sessions() as session:  # printing schedules nothing
        assert session.scalars(select(Job)).all() == []
