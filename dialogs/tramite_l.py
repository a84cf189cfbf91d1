"""L) Visita de soporte técnico (procedure section L).

The client describes the problem and answers the remote-diagnosis questions the Analista Técnico
asks first (L.2.1: sin servicio, cortes, velocidad del plan, cantidad de dispositivos) and proposes
days and times for a visit. Everything may come in one message. The contracted speed is read from
the plan when its name states it ("Fibra Empresa 100 Mbps"); it is asked only otherwise. The
preferred days are kept as written and, where they resolve ("el martes", "mañana", "3 de
diciembre"), as dates. The case goes to the Analista Técnico, who solves it remotely or schedules
the visit (L.3-L.5). No cost.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from bot import nlu, texts
from bot.dialog import Turn
from bot.nlu.normalise import fold
from bot.portfolio.records import ProductInfo
from bot.rules import load_rules
from bot.understanding.mentions import first_match, mentions
from bot.understanding.options import option_numbers
from bot.understanding.slots import Slot
from bot.understanding.words import free_product_types, words_of
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input
from dialogs.tramite_h import vocabulary

DAMAGE_TYPES = ("tv_cable", "telefonia_fija")  # services whose visits E coordinates
COLLECTING = ["start", "choose_product", "ask_problem", "ask_devices", "ask_speed", "ask_availability"]
OPEN_ORDER_STATUSES = ("registrada", "asignada")
_CLAUSE = re.compile(r"[,.;\n]+")
_PLAN_SPEED = re.compile(r"(\d{1,5})\s*mbps", re.I)
_HOURS = re.compile(
    r"\b(?:de|desde|entre)\s+(?:las\s+)?(?P<a>\d{1,2})(?::(?P<am>\d{2}))?\s*(?:hrs?|horas)?\s*"
    r"(?:a|y|hasta)\s+(?:las\s+)?(?P<b>\d{1,2})(?::(?P<bm>\d{2}))?\b"
)
_AT_HOUR = re.compile(r"\ba\s+las\s+(?P<a>\d{1,2})(?::(?P<am>\d{2}))?\b")
_DAY_MONTH = re.compile(r"\b\d{1,2}\s+de\s+[a-z]+\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b")


def _words() -> dict:
    return vocabulary()["L"]


@lru_cache
def _number_words() -> dict[str, int]:
    return {nlu.normalise(str(k)): int(v) for k, v in load_rules("nlu.yaml")["number_words"].items()
            if float(v) == int(v)}


def _count(token: str) -> int | None:
    return int(token) if token.isdigit() else _number_words().get(token)


def _alternation(phrases) -> str:
    return "|".join(sorted((re.escape(nlu.normalise(p)) for p in phrases), key=len, reverse=True))


def is_unknown(normalised: str) -> bool:
    return any(mentions(normalised, p) for p in _words()["unknown_answers"])


def read_speed(normalised: str, *, bare: bool) -> int | None:
    found = re.search(rf"\b(\d{{1,5}})\s*(?:{_alternation(_words()['speed_units'])})\b", normalised)
    if found:
        return int(found[1])
    if bare:
        found = re.fullmatch(r"(?:de\s+)?(\d{1,5})", normalised)
        return int(found[1]) if found else None
    return None


def read_devices(normalised: str, *, bare: bool) -> int | None:
    number = r"\d{1,4}|" + _alternation(_number_words())
    nouns = _alternation(_words()["device_nouns"])
    found = re.search(rf"\b({number})\s+(?:\w+\s+)?(?:{nouns})\b", normalised)
    if found:
        return _count(found[1])
    if bare:
        cleaned = re.sub(rf"\b\d{{1,5}}\s*(?:{_alternation(_words()['speed_units'])})\b", " ", normalised)
        found = re.search(rf"\b({number})\b", cleaned)
        return _count(found[1]) if found else None
    return None


def plan_speed(product: ProductInfo) -> int | None:
    found = _PLAN_SPEED.search(product.plan or "")
    return int(found[1]) if found else None


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def _explicit_date(text: str, today: date) -> date | None:
    import dateparser  # slow to import; only for a written date

    parsed = dateparser.parse(text, languages=["es"], settings={
        "RELATIVE_BASE": datetime.combine(today, time()), "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY"})
    return parsed.date() if parsed else None


def read_availability(text: str, today: date) -> dict | None:
    """Days and times in one clause: {"dates", "parts", "hours", "flexible"} or None."""
    folded = fold(text)
    words = nlu.normalise(text).split()
    vocab = _words()
    dates: list[date] = []
    parts: list[str] = []
    for i, word in enumerate(words):
        if set(words[max(0, i - 2):i]) & set(vocab["past_before"]) or (
                i + 1 < len(words) and words[i + 1] in vocab["past_after"]):
            continue  # when the problem started, not when to come
        if word in vocab["weekdays"]:
            dates.append(_next_weekday(today, vocab["weekdays"].index(word)))
        elif word == "hoy":
            dates.append(today)
        elif word in ("manana", "mananas"):
            before = words[i - 1] if i else ""
            if before == "pasado":
                dates.append(today + timedelta(days=2))
            elif before in vocab["morning_markers"] or word == "mananas":
                parts.append("manana")
            else:
                dates.append(today + timedelta(days=1))
        elif word.rstrip("s") in vocab["parts_of_day"]:
            parts.append(word.rstrip("s"))
    for found in _DAY_MONTH.finditer(folded):
        day = _explicit_date(found.group(), today)
        if day is not None and day >= today:
            dates.append(day)
    hours = []
    for pattern in (_HOURS, _AT_HOUR):
        for found in pattern.finditer(folded):
            start = int(found["a"])
            end = int(found["b"]) if "b" in found.groupdict() else None
            if not 6 <= start <= 22 or (end is not None and not start < end <= 23):
                continue
            span = f"{start:02d}:{found['am'] or '00'}"
            if end is not None:
                span += f"-{end:02d}:{found['bm'] or '00'}"
            hours.append(span)
    normalised = " ".join(words)
    flexible = any(mentions(normalised, p) for p in vocab["flexible"])
    if not (dates or parts or hours or flexible):
        return None
    return {"dates": sorted({d.isoformat() for d in dates}), "parts": list(dict.fromkeys(parts)),
            "hours": list(dict.fromkeys(hours)), "flexible": flexible}


def availability_in(text: str, today: date, *, whole: bool) -> dict | None:
    """The availability in a message, with the client's own words; `whole`: the message
    answers our question, so all of it is kept as written."""
    clauses = [c.strip() for c in _CLAUSE.split(text) if c.strip()]
    found = [(c, read_availability(c, today)) for c in clauses]
    found = [(c, a) for c, a in found if a]
    if not found:
        return None
    merged = {"as_given": text.strip() if whole else ", ".join(c for c, _ in found),
              "dates": sorted({d for _, a in found for d in a["dates"]}),
              "parts": list(dict.fromkeys(p for _, a in found for p in a["parts"])),
              "hours": list(dict.fromkeys(h for _, a in found for h in a["hours"])),
              "flexible": any(a["flexible"] for _, a in found)}
    return merged


class SupportVisitDialog(TramiteDialog):
    name = "tramite_L"
    code = "L"
    product_types = ("internet", "duo_pack", "multipack")  # the diagnosis is of the internet service
    initial = "start"
    states = [*COLLECTING, "offer_human", "done"]
    # The conditions needs_problem .. needs_availability and the questions but ask_problem are
    # generated from the slots.
    slots = (
        Slot("products", "products", "choose_product", "ask_product"),
        Slot("problem", "choice", "ask_problem", "L_ask_problem"),
        Slot("devices", "number", "ask_devices", "L_ask_devices"),
        Slot("speed_mbps", "number", "ask_speed", "L_ask_speed"),
        Slot("availability", "dates", "ask_availability", "L_ask_availability"),
    )
    transitions = [
        # A visit for the TV or the line is a damage report (E): its Gestor(a) Técnico
        # coordinates the visit (E.1.2); L's diagnosis is of the internet only.
        *on_input("start", "done", conditions="is_for_another_service", after="hand_to_damage"),
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "choose_product", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "ask_problem", conditions="needs_problem", after="ask_problem"),
        *on_input(COLLECTING, "ask_devices", conditions="needs_devices", after="ask_devices"),
        *on_input(COLLECTING, "ask_speed", conditions="needs_speed_mbps", after="ask_speed_mbps"),
        *on_input(COLLECTING, "ask_availability", conditions="needs_availability", after="ask_availability"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    def is_for_another_service(self, event) -> bool:
        named = free_product_types(words_of(event.model.text))
        return bool(named) and not set(named) & set(self.product_types) \
            and set(named) <= set(DAMAGE_TYPES)

    def hand_to_damage(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("L_to_damage", product_types=free_product_types(words_of(turn.text)))
        turn.start_tramite("E")

    # --- reading the message ---------------------------------------------------------------
    def extract(self, turn: Turn) -> set[str]:
        data, state, filled = turn.data, turn.state, set()
        normalised = nlu.normalise(turn.text)
        if "problem" not in data:
            problem = self._problem(turn, normalised)
            if problem:
                data["problem"] = problem
                data["description"] = self._description(turn)
                filled.add("problem")
        if "devices" not in data:
            devices = read_devices(normalised, bare=state == "ask_devices")
            if devices is None and state == "ask_devices" and is_unknown(normalised):
                devices = "no_sabe"
            if devices is not None:
                data["devices"] = devices
                filled.add("devices")
        if "speed_mbps" not in data:
            speed = read_speed(normalised, bare=state == "ask_speed")
            if speed is None and state == "ask_speed" and is_unknown(normalised):
                speed = "no_sabe"
            if speed is not None:
                data["speed_mbps"], data["speed_source"] = speed, "cliente"
                filled.add("speed_mbps")
            elif data.get("products"):
                speed = plan_speed(self.products(turn)[0])  # the contract says it: no need to ask
                if speed is not None:
                    data["speed_mbps"], data["speed_source"] = speed, "plan"
        if "availability" not in data:
            availability = availability_in(turn.text, turn.today, whole=state == "ask_availability")
            if availability:
                data["availability"] = availability
                filled.add("availability")
        return filled

    def _problem(self, turn: Turn, normalised: str) -> str | None:
        problems = _words()["problems"]
        found = first_match(normalised, {code: spec["phrases"] for code, spec in problems.items()})
        if found or turn.state != "ask_problem":
            return found
        options = _words()["problem_options"]
        numbers = option_numbers(turn.text)
        if len(numbers) == 1 and 1 <= numbers[0] <= len(options):
            return options[numbers[0] - 1]
        if len([w for w in normalised.split() if len(w) >= 4]) >= 2:
            return "otro"  # described in the client's words; the analyst reads them
        return None

    def _description(self, turn: Turn) -> str:
        """The client's words about the problem: the whole answer to our question, or the
        clauses of a longer request that name it."""
        if turn.state == "ask_problem":
            return "" if option_numbers(turn.text) else turn.text.strip()
        phrases = {code: spec["phrases"] for code, spec in _words()["problems"].items()}
        clauses = [c.strip() for c in _CLAUSE.split(turn.text) if c.strip()]
        return ", ".join(c for c in clauses if first_match(nlu.normalise(c), phrases)) or turn.text.strip()

    # --- questions ---------------------------------------------------------------------------
    def ask_problem(self, event) -> None:
        turn: Turn = event.model
        turn.services.say("L_ask_problem", hint=turn.scratch.get("hint", False),
                          product=self.products(turn)[0], problems=_words()["problems"],
                          options=_words()["problem_options"], other_label=_words()["other_label"])

    # --- the case ----------------------------------------------------------------------------
    def finish(self, event) -> None:
        turn: Turn = event.model
        data = turn.data
        product = self.products(turn)[0]
        records = turn.services.records
        open_orders = [o.number for o in records.work_orders(product.contract) if o.status in OPEN_ORDER_STATUSES]
        if open_orders:
            self.decide(turn, "open_damage_order", work_orders=open_orders)
        if data.get("speed_source") == "plan":
            self.decide(turn, "speed_from_plan", plan=product.plan, speed_mbps=data["speed_mbps"])
        self.decide(turn, "remote_diagnosis_first",
                    problem=data["problem"], devices=data["devices"], speed_mbps=data["speed_mbps"],
                    preferred_dates=data["availability"]["dates"])
        details = {"product": product, "problem": data["problem"], "description": data.get("description", ""),
                   "devices": data["devices"], "speed": data["speed_mbps"],
                   "speed_source": data.get("speed_source"), "availability": data["availability"],
                   "preferred": [date.fromisoformat(d) for d in data["availability"]["dates"]],
                   "vocabulary": _words()}
        case, pending = self.open_case(
            turn, role="analista_tecnico", summary=texts.render("details_L", **details),
            data={"product": product.contract, "problem": data["problem"],
                  "description": data.get("description", ""), "devices": data["devices"],
                  "speed_mbps": data["speed_mbps"], "speed_source": data.get("speed_source"),
                  "availability": data["availability"], "open_work_orders": open_orders},
        )
        self.summarise(turn, case, pending=pending, costs=[], **details)
        turn.go_to("main", "menu")
