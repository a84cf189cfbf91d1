"""C) Traslado de productos (procedure section C).

The client moves one or more products to a new address. The bot collects the products and the
new address (street or avenue with its number, zona or barrio, city, a reference), asking only
for the parts that are missing. Technical feasibility is the Gestor(a) Comercial's check (C.2):
the case goes there, after waiting with the ejecutivo(a) while documents are missing. The
traslado fee per product (tariffs.yaml `relocation`) goes on the monthly invoice (C.6.2). A move
that changes technology means returning the current equipment at the office and a new
installation (C.4-C.5): the bot quotes that as information, not as a charge. After the
Gestor(a) Comercial, the Gestor(a) Técnico coordinates the installation and the ejecutivo(a)
checks with the client (C.7-C.11): recorded as the case's `next_roles`.
Example: internet 300104 to "Av. Heroínas 789, Zona Central, Cochabamba, frente a la plaza" ->
Bs 120,00 on the monthly invoice; carta and croquis missing.
"""
from __future__ import annotations

import re
from functools import lru_cache

from bot import requirements, texts
from bot.dialog import Turn
from bot.rules import load_rules
from bot.understanding.amounts import amount
from bot.understanding.slots import Slot
from bot.understanding.words import find_labels, vocabulary, words_of
from dialogs.tramite import ANSWER_TO_HUMAN_OFFER, TramiteDialog, on_input
from dialogs.tramite_a import (
    NoGuessAfterWrongProduct,
    RememberedDecisions,
    decide_requirements,
    fold_same_length,
    products_named_by_type,
)

COLLECTING = ["start", "choose_products", "ask_address"]
PARTS = ("street", "number", "zone", "city", "reference")  # in the order they are asked for
SEPARATORS = re.compile(r"[,;\n]")
NEXT_ROLES = ["gestor_tecnico", "ejecutivo"]
NUMBER_ONLY = re.compile(r"(?:n[°ºo.]?\s*|nro\.?\s*|#\s*)?\d+\w?", re.IGNORECASE)
LETTERS = re.compile(r"[^\W\d_]{3,}")
# Words that join a detail keyword to the rest of the request ("a la nueva oficina en Av. ..."):
# a detail that is only its keyword and these words names no place, it is the request talking.
DETAIL_LINKS = re.compile(r"(?:\s+(?:en|de|del|a|al|la|el|los|las|que|ubicad[oa]s?|queda|esta|está))+$",
                          re.IGNORECASE)


# --- reading an address ---------------------------------------------------------------------------
@lru_cache
def _patterns() -> dict[str, re.Pattern]:
    vocab = vocabulary()["address"]

    def alternation(words):
        # Longest first, spaces as any whitespace; a word ending in "." or "/" needs no boundary.
        words = sorted((str(w).replace(" ", r"\s+") for w in words), key=len, reverse=True)
        return r"(?<![\w/])(?:" + "|".join(words) + r")(?:(?<=[./])|\b)"

    return {
        "reference": re.compile(alternation(vocab["reference_words"])),
        "zone": re.compile(alternation(vocab["zone_words"])),
        "detail": re.compile(alternation(vocab["detail_words"])),
        "street": re.compile(alternation(vocab["street_words"])),
        "city": re.compile(alternation(vocab["cities"])),
    }


def _markers(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every address keyword, overlaps resolved in favour of the longer."""
    found = []
    for kind, pattern in _patterns().items():
        found.extend((m.start(), m.end(), kind) for m in pattern.finditer(folded))
    found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
    kept: list[tuple[int, int, str]] = []
    for marker in found:
        if kept and marker[0] < kept[-1][1]:
            continue
        kept.append(marker)
    # A city counts where the text ends, breaks, or another part begins: "Av. Santa Cruz 123"
    # is a street, "..., Sacaba" and "Zona Central Cochabamba frente a" name the city.
    result = []
    for i, (start, end, kind) in enumerate(kept):
        if kind == "city":
            rest = folded[end:]
            next_start = kept[i + 1][0] - end if i + 1 < len(kept) else None
            gap = rest[:next_start] if next_start is not None else rest
            if gap.strip(" .") and not SEPARATORS.match(gap.lstrip(" .")):
                continue
        result.append((start, end, kind))
    return result


def parse_address(text: str) -> list[dict]:
    """The address parts a text names, in text order: [{kind, text, number?}]."""
    folded = fold_same_length(text)
    markers = _markers(folded)
    parts = []
    reference_until = -1
    for i, (start, end, kind) in enumerate(markers):
        if kind in ("street", "detail") and start < reference_until:
            continue  # "frente a la avenida ..." is still the reference
        if kind == "city":
            parts.append({"kind": "city", "text": text[start:end].strip().title()})
            continue
        stop = len(text)
        separator = SEPARATORS.search(folded, end)
        if separator:
            stop = separator.start()
        for later_start, _, later_kind in markers[i + 1:]:
            if later_start >= stop:
                break
            if kind == "reference" and later_kind in ("street", "detail"):
                continue
            stop = later_start
            break
        written = text[start:stop].strip(" .,;:-")
        if kind == "detail":
            written = DETAIL_LINKS.sub("", written).strip(" .,;:-")
            if not written[end - start:].strip(" .,;:-"):
                continue  # "la nueva oficina en ...": no office named
        part = {"kind": kind, "text": written}
        if kind == "street":
            numbers = re.findall(r"\d+", folded[end:stop])
            part["number"] = numbers[-1] if numbers else None
        parts.append(part)
        if kind == "reference":
            reference_until = stop
    return parts


def _same_street(street: str, address: str) -> bool:
    return fold_same_length(address).startswith(fold_same_length(street))


def address_line(address: dict) -> str:
    pieces = [address.get(k) for k in ("street", "detail", "zone", "city", "reference")]
    return ", ".join(p for p in pieces if p)


class RelocationDialog(NoGuessAfterWrongProduct, RememberedDecisions, TramiteDialog):
    name = "tramite_C"
    code = "C"
    # HSPA works on the mobile network: there is nothing to move.
    product_types = ("telefonia_fija", "internet", "tv_cable", "duo_pack", "multipack",
                     "boliviatel")
    multi_product = True
    initial = "start"
    states = ["start", "choose_products", "ask_address", "offer_human", "done"]
    slots = (
        Slot("products", "products", "choose_products", "ask_product"),
        Slot("address", "address", "ask_address", "C_ask_address"),
    )
    transitions = [
        *on_input(COLLECTING, "done", conditions="has_no_candidates", after="explain_no_products"),
        *on_input(COLLECTING, "offer_human", conditions="gave_up", after="offer_human"),
        *on_input(COLLECTING, "choose_products", conditions="needs_product", after="ask_product"),
        *on_input(COLLECTING, "ask_address", conditions="needs_address", after="ask_address"),
        *on_input(COLLECTING, "done", after="finish"),
        *ANSWER_TO_HUMAN_OFFER,
    ]

    # --- reading the message -------------------------------------------------------------------
    def absorb_products(self, turn: Turn) -> set[str]:
        if turn.data.get("products"):
            return set()
        filled = super().absorb_products(turn)
        words = words_of(turn.text)
        named = products_named_by_type(self, turn)
        if find_labels(words, {"all": vocabulary()["all_products_words"]}):
            named = [p.contract for p in self.candidates(turn)]
        if not named:
            return filled
        chosen = list(dict.fromkeys([*turn.data.get("products", []), *named]))
        turn.data["products"] = chosen
        turn.data.pop("listed", None)
        self.decide(turn, "products_named", contracts=chosen)
        return {"products"}

    def extract(self, turn: Turn) -> set[str]:
        address: dict = turn.data.setdefault("address", {})
        before = dict(address)
        current = [p.address for p in self.candidates(turn)]
        streets, details = [], []
        for part in parse_address(turn.text):
            if part["kind"] == "street":
                if not (part["number"] and any(_same_street(part["text"], a) for a in current)):
                    streets.append(part)  # the current address is where it comes from
            elif part["kind"] == "detail":
                details.append(part["text"])  # "edificio Torres" "piso 3"
            else:
                address[part["kind"]] = part["text"]
        if details:
            address["detail"] = " ".join(details)
        if streets:
            street = streets[-1]
            if street["number"] or not address.get("number"):
                address["street"], address["number"] = street["text"], street["number"]
        if turn.state == "ask_address" and address == before:
            self._plain_answer(turn, address)
        if address != before:
            # Progress, even partial, is an answer: only a reply that adds nothing is re-asked.
            return {"address"}
        return set()

    def _plain_answer(self, turn: Turn, address: dict) -> None:
        """A reply without keywords answers what we asked first: "789" is the door number,
        "Queru Queru" the zona (or the reference, or the city, whichever is missing first)."""
        text = turn.text.strip(" .")
        missing = self.missing_parts(turn)
        if "number" in missing and NUMBER_ONLY.fullmatch(text):
            address["number"] = re.search(r"\d+\w?", text).group()
            address["street"] = f"{address['street']} {address['number']}"
        elif missing and missing[0] in ("zone", "reference", "city") and LETTERS.search(text):
            address[missing[0]] = text

    # --- conditions ----------------------------------------------------------------------------
    def missing_parts(self, turn: Turn) -> list[str]:
        address = turn.data.get("address") or {}
        missing = []
        if not address.get("street"):
            missing.append("street")
        elif not address.get("number"):
            missing.append("number")
        missing.extend(k for k in ("zone", "reference") if not address.get(k))
        if not address.get("city") and not self.default_city(turn):
            missing.append("city")
        return [p for p in PARTS if p in missing]

    def needs_address(self, event) -> bool:
        return bool(self.missing_parts(event.model))

    def default_city(self, turn: Turn) -> str | None:
        for product in self.products(turn):
            cities = [p["text"] for p in parse_address(product.address) if p["kind"] == "city"]
            if cities:
                return cities[-1]
        return None

    # --- replies -------------------------------------------------------------------------------
    def ask_address(self, event) -> None:
        turn: Turn = event.model
        address = turn.data.get("address") or {}
        turn.services.say("C_ask_address", hint=turn.scratch.get("hint", False),
                          missing=self.missing_parts(turn), known=address_line(address))

    def finish(self, event) -> None:
        turn: Turn = event.model
        address = turn.data["address"]
        if not address.get("city"):
            address["city"] = self.default_city(turn)
            self.decide(turn, "city_default", city=address["city"])
        tariff = load_rules("tariffs.yaml")["relocation"]
        fee, installation = amount(tariff["same_technology"]), amount(tariff["new_installation"])
        products = self.products(turn)
        costs = [{"code": "relocation", "amount": fee, "charge": "recurrente",
                  "contract": p.contract, "product": texts.product_label(p)} for p in products]
        conditional = [{"code": "new_installation", "amount": installation, "charge": "recurrente",
                        "contract": p.contract, "product": texts.product_label(p),
                        "condition": "cambio_de_tecnologia"} for p in products]
        self.decide(turn, "relocation_tariff", contracts=[p.contract for p in products],
                    amount=str(fee), new_installation=str(installation))
        self.decide(turn, "technical_feasibility", next_roles=NEXT_ROLES)
        codes = requirements.for_tramite(self.code)
        decide_requirements(self, turn, codes, "gestor_comercial")
        line = address_line(address)
        details = {"products": products, "address": line, "conditional": conditional,
                   "installation": installation}
        case, pending = self.open_case(
            turn, role="ejecutivo", role_when_complete="gestor_comercial",
            summary=texts.render("details_C", **details), costs=costs, requirement_codes=codes,
            data={"contracts": [p.contract for p in products], "new_address": address,
                  "new_address_line": line, "next_roles": NEXT_ROLES,
                  "conditional_costs": [{**c, "amount": str(c["amount"])} for c in conditional]},
        )
        self.summarise(turn, case, pending=pending, costs=costs, **details)
        turn.go_to("main", "menu")
