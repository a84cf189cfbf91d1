"""J) Actualización de datos (procedure section J, step 3.1).

The client updates its contact person, contact phone, email or WhatsApp number, one or several
in one message ("el nuevo correo es x@y.bo y el contacto es Juan Pérez, cel 71234567"). Emails
come from the NLU's `emails` entity; phones are normalised to E.164 and must be valid numbers.
The bot records each change (field, value in the portfolio where known, new value) on a case for
the client's ejecutivo(a), who confirms it and updates Smartflex: the bot never changes the
portfolio itself. No cost, no documents.
"""
from __future__ import annotations

import re
from functools import lru_cache

from bot import nlu, texts
from bot.dialog import Turn
from bot.understanding.phones import phone_e164
from bot.understanding.slots import Slot
from bot.understanding.words import vocabulary
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input
from dialogs.tramite_a import RememberedDecisions, fold_same_length

COLLECTING = ["start", "ask_data"]
FIELDS = ("contact", "phone", "email", "whatsapp")  # the order the summary lists them
_PHONE_RUN = re.compile(r"(?<![\w@])\+?\d(?:\d|[ .-](?=\d)){2,15}(?![\w@])")
MIN_UNNAMED_DIGITS = 7  # a shorter number counts only right after a phone word ("cel 123")
_EMAIL_LIKE = re.compile(r"[^\s,;:<>()]+@[^\s,;:<>()]*")
_NAME_WORD = re.compile(r"[a-zñ][a-zñ'.-]*")
NOT_NAME_START = {"de", "del", "la", "las", "los", "lo", "un", "una", "que", "mi", "su"}


@lru_cache
def _not_a_phone() -> re.Pattern:
    """The words just before a number that say it is something else ("NIT 1020304021")."""
    words = "|".join(vocabulary()["not_phone_words"])
    return re.compile(rf"\b(?:{words})\b\W{{0,5}}$")


@lru_cache
def _cue_pattern() -> re.Pattern:
    alternatives = []
    for field, phrases in vocabulary()["contact_fields"].items():
        words = sorted((str(p).replace(" ", r"\s+") for p in phrases), key=len, reverse=True)
        alternatives.append(rf"(?P<{field}>{'|'.join(words)})")
    return re.compile(r"(?<![\w@.])(?:" + "|".join(alternatives) + r")(?![\w@])")


@lru_cache
def _general_phrases() -> re.Pattern:
    phrases = sorted((str(p).replace(" ", r"\s+") for p in vocabulary()["general_phrases"]),
                     key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


def _cues(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, field) of every field word; the alternation tries longer phrases first.
    "Datos de contacto" names no field: it is blanked out first."""
    folded = _general_phrases().sub(lambda m: " " * len(m.group()), folded)
    return [(m.start(), m.end(), m.lastgroup) for m in _cue_pattern().finditer(folded)]


def _field_before(position: int, cues: list[tuple[int, int, str]]) -> str | None:
    before = [field for _, end, field in cues if end <= position]
    return before[-1] if before else None


def valid_phone(raw: str) -> str | None:
    """E.164 of a valid Bolivian (or international) number; 7 digits get the local area code."""
    return phone_e164(raw, area_code=vocabulary()["default_area_code"])


def read_name(text: str, folded: str, start: int, cues, *, linked: bool = False) -> str | None:
    """A person's name after a contact word: "es Juan Pérez, cel ..." -> "Juan Pérez". Written
    in lower case it counts only after a linking word ("es", ":") or when `linked` (we asked)."""
    vocab = vocabulary()
    fillers, linkers = set(vocab["value_fillers"]), set(vocab["value_linkers"])
    titles = set(vocab["name_titles"])
    linked = linked or folded[start:].lstrip().startswith(":")
    words: list[str] = []
    for token in re.finditer(r"\S+", folded[start:]):
        at = start + token.start()
        raw = token.group()
        word = raw.strip(".,;:()¡!¿?\"'")
        if not word:
            linked = linked or ":" in raw
            continue
        if any(cue_start <= at < cue_end for cue_start, cue_end, _ in cues):
            break
        if not words and word in fillers:
            linked = linked or word in linkers
            continue
        if word in ("y", "e") or not _NAME_WORD.fullmatch(word):
            break
        if not words and word in NOT_NAME_START:
            break  # "el contacto es de la empresa" names nobody
        original = text[at:at + len(raw)].strip(",;:()¡!¿?\"'")
        words.append(original)
        if raw[-1] in ",;:" or (raw.endswith(".") and word not in titles) or len(words) == 6:
            break
    if not words:
        return None
    name = " ".join(words).rstrip(".")
    if not (linked or name[:1].isupper()) or len(re.sub(r"[^\w]", "", name)) < 3:
        return None
    return name.title() if name.islower() else name


def read_updates(text: str, emails: list[str], asked: list[str]) -> dict:
    """Field -> new values found in a message, plus what was unreadable."""
    folded = fold_same_length(text)
    cues = _cues(folded)
    found: dict[str, list[str]] = {}
    invalid = {"email": [], "phone": []}
    for email in emails:
        found.setdefault("email", []).append(email)
    for match in _EMAIL_LIKE.finditer(folded):
        candidate = match.group().strip(".")
        if candidate not in emails:
            invalid["email"].append(text[match.start():match.start() + len(candidate)])
    blanked = _EMAIL_LIKE.sub(lambda m: " " * len(m.group()), folded)
    for match in _PHONE_RUN.finditer(blanked):
        if _not_a_phone().search(blanked[max(0, match.start() - 20):match.start()]):
            continue
        field = _field_before(match.start(), cues)
        digits = re.sub(r"\D", "", match.group())
        if len(digits) < MIN_UNNAMED_DIGITS and field not in ("phone", "whatsapp"):
            continue
        if field not in ("phone", "whatsapp", "contact"):
            field = asked[0] if len(asked) == 1 and asked[0] in ("phone", "whatsapp") else "phone"
        if field == "contact":
            field = "phone"  # "el contacto es Juan Pérez, 71234567": the contact's phone
        e164 = valid_phone(match.group())
        if e164 is None:
            invalid["phone"].append(match.group().strip())
        else:
            found.setdefault(field, []).append(e164)
    for start, end, field in cues:
        if field == "contact":
            name = read_name(text, folded, end, cues)
            if name:
                found.setdefault("contact", []).append(name)
    if not cues and asked == ["contact"] and "contact" not in found:
        name = read_name(text, folded, 0, cues, linked=True)
        if name:
            found["contact"] = [name]
    mentioned = [field for _, _, field in cues]
    return {"found": found, "invalid": {k: v for k, v in invalid.items() if v},
            "mentioned": list(dict.fromkeys(mentioned))}


class DataUpdateDialog(RememberedDecisions, TramiteDialog):
    name = "tramite_J"
    code = "J"
    initial = "start"
    states = ["start", "ask_data", "offer_human", "done"]
    slots = (Slot("updates", "fields", "ask_data", "J_ask_data"),)
    transitions = [
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "ask_data", conditions="needs_data", after="ask_data"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    # --- reading the message -------------------------------------------------------------------
    def extract(self, turn: Turn) -> set[str]:
        asked = turn.data.get("asked") or []
        read = read_updates(turn.text, turn.nlu.entities.get("emails") or [], asked)
        updates: dict = turn.data.setdefault("updates", {})
        old = self.old_values(turn)
        filled = set()
        unchanged = []
        for field, values in read["found"].items():
            new = [v for v in values if v.lower() != (old.get(field) or "").lower()]
            if new:
                updates[field] = new[-1]
                filled.add("updates")
            else:
                unchanged.append(field)
        turn.scratch["unchanged"] = unchanged
        turn.scratch["invalid"] = read["invalid"]
        # Fields named without a value ("quiero cambiar el correo") or with an unreadable one are
        # what the next question asks for; "no" / "solo eso" drops what is still asked.
        wanted = [f for f in read["mentioned"] if f not in read["found"] and f not in unchanged]
        wanted += [f for f in read["invalid"] if f not in wanted]
        still = [f for f in asked if f not in read["found"] and f not in unchanged]
        if nlu.yes_no(turn.text) is False and updates:
            still = []
        turn.data["asked"] = [f for f in FIELDS if f in wanted or f in still]
        if wanted:
            filled.add("updates")  # understood: the next question is about those fields
        return filled

    def old_values(self, turn: Turn) -> dict:
        """What the portfolio holds today (only the client's email and WhatsApp are known)."""
        client = turn.services.client
        return {"email": client.email or None, "whatsapp": client.whatsapp or None}

    # --- conditions ----------------------------------------------------------------------------
    def needs_data(self, event) -> bool:
        turn: Turn = event.model
        return not turn.data.get("updates") or bool(turn.data.get("asked"))

    # --- replies -------------------------------------------------------------------------------
    def ask_data(self, event) -> None:
        turn: Turn = event.model
        turn.services.say(
            "J_ask_data", hint=turn.scratch.get("hint", False),
            asked=turn.data.get("asked") or [], invalid=turn.scratch.get("invalid") or {},
            unchanged=turn.scratch.get("unchanged") or [],
        )

    def finish(self, event) -> None:
        turn: Turn = event.model
        old = self.old_values(turn)
        updates = [{"field": f, "old": old.get(f), "new": turn.data["updates"][f]}
                   for f in FIELDS if f in turn.data["updates"]]
        self.decide(turn, "data_update", fields=[u["field"] for u in updates])
        case, pending = self.open_case(
            turn, role="ejecutivo", summary=texts.render("details_J", updates=updates),
            costs=[], requirement_codes=[], data={"updates": updates},
        )
        self.summarise(turn, case, pending=pending, costs=[], updates=updates)
        turn.go_to("main", "menu")
