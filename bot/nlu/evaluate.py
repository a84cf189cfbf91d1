"""Scores of a reader of messages on a labelled file (`python -m bot nlu --eval FILE`).

A labelled file has one message a line, `LABELS<TAB>TEXT` (bot/nlu/corpus/split.py).
What is measured, with "trámite" meaning A-L and "request" any label (A-L, estado,
anular):
- top-1: over messages asking for at least one trámite, the share whose `tramite` is
  one of them;
- chit-chat false positives: over messages asking for nothing ("-"), the share that
  would open a trámite (and, apart, the share read as a case query);
- two requests: over messages with exactly two requests, the share where both are found
  (among `requests` and `case_query`); the same over messages with two trámites;
- per label: precision and recall of the labels found;
- case queries: over messages about an existing case, the share read as that query;
- a confusion table of the main request (the gold trámite the reader picked when it
  picked one of them, else the first gold label) against the reader's pick.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .features import CASE_QUERIES, LABELS, TRAMITES

NONE = "-"


@dataclass(frozen=True)
class Reading:
    tramite: str | None
    requests: tuple[str, ...]  # trámites found, A-L
    case_query: str | None

    @property
    def found(self) -> set[str]:
        return set(self.requests) | ({self.case_query} if self.case_query else set())


@dataclass
class Report:
    messages: int = 0
    top1_total: int = 0
    top1_right: int = 0
    chat_total: int = 0
    chat_tramite: int = 0
    chat_case: int = 0
    two_total: int = 0
    two_both: int = 0
    two_tramites_total: int = 0
    two_tramites_both: int = 0
    multi_total: int = 0
    single_total: int = 0  # messages with one request ...
    single_extra: int = 0  # ... read with another one too (a needless question to the client)
    multi_all: int = 0
    case_total: int = 0
    case_right: int = 0
    true_pos: Counter = field(default_factory=Counter)
    false_pos: Counter = field(default_factory=Counter)
    false_neg: Counter = field(default_factory=Counter)
    confusion: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)

    @staticmethod
    def share(part: int, whole: int) -> float:
        return part / whole if whole else float("nan")

    @property
    def top1(self) -> float:
        return self.share(self.top1_right, self.top1_total)

    @property
    def chat_fp(self) -> float:
        return self.share(self.chat_tramite, self.chat_total)

    @property
    def two_recall(self) -> float:
        return self.share(self.two_both, self.two_total)

    def precision(self, label: str) -> float:
        return self.share(self.true_pos[label], self.true_pos[label] + self.false_pos[label])

    def recall(self, label: str) -> float:
        return self.share(self.true_pos[label], self.true_pos[label] + self.false_neg[label])

    def summary(self) -> dict[str, float]:
        return {
            "messages": self.messages,
            "top1": self.top1,
            "chat_fp": self.chat_fp,
            "chat_case_fp": self.share(self.chat_case, self.chat_total),
            "two_recall": self.two_recall,
            "two_tramites_recall": self.share(self.two_tramites_both, self.two_tramites_total),
            "multi_all": self.share(self.multi_all, self.multi_total),
            "single_extra": self.share(self.single_extra, self.single_total),
            "case_query": self.share(self.case_right, self.case_total),
        }


def read_labelled(path: Path) -> list[tuple[tuple[str, ...], str]]:
    """(labels, text) per message; `\\n` in the file is a line break in the text."""
    from .corpus.split import read_tsv

    return [(labels, text.replace("\\n", "\n")) for labels, text in read_tsv(Path(path))]


def score(rows: Iterable[tuple[tuple[str, ...], str]], read: Callable[[str], Reading]) -> Report:
    report = Report()
    for gold, text in rows:
        got = read(text)
        report.messages += 1
        gold_set = set(gold)
        gold_tramites = [g for g in gold if g in TRAMITES]
        found = got.found
        for label in LABELS:
            if label in found and label in gold_set:
                report.true_pos[label] += 1
            elif label in found:
                report.false_pos[label] += 1
            elif label in gold_set:
                report.false_neg[label] += 1
        if gold_tramites:
            report.top1_total += 1
            report.top1_right += got.tramite in gold_tramites
        if not gold:
            report.chat_total += 1
            report.chat_tramite += got.tramite is not None
            report.chat_case += got.case_query is not None
        if len(gold_set) == 2:
            report.two_total += 1
            report.two_both += gold_set <= found
        if len(set(gold_tramites)) == 2:
            report.two_tramites_total += 1
            report.two_tramites_both += set(gold_tramites) <= set(got.requests)
        if len(gold_set) == 1:
            report.single_total += 1
            report.single_extra += bool(found - gold_set)
        if len(gold_set) >= 2:
            report.multi_total += 1
            report.multi_all += gold_set <= found
        gold_cases = [g for g in gold if g in CASE_QUERIES]
        if gold_cases:
            report.case_total += 1
            report.case_right += got.case_query in gold_cases
        if got.tramite in gold_tramites:
            main = got.tramite
        else:
            main = gold[0] if gold else NONE
        pick = got.tramite or got.case_query or NONE
        report.confusion[main, pick] += 1
        if not _right(gold, got):
            report.errors.append((gold, got, text))
    return report


def _right(gold: tuple[str, ...], got: Reading) -> bool:
    gold_tramites = [g for g in gold if g in TRAMITES]
    if gold_tramites and got.tramite not in gold_tramites:
        return False
    if not gold_tramites and got.tramite is not None:
        return False
    return set(gold) <= got.found if len(set(gold)) >= 2 else (
        not any(g in CASE_QUERIES for g in gold) or got.case_query in gold)


def _pct(value: float) -> str:
    return "  n/a" if value != value else f"{100 * value:5.1f}"


def format_report(report: Report, title: str = "", show_errors: int = 0) -> str:
    s = report.summary()
    lines = [title] if title else []
    lines += [
        f"messages                          {report.messages}",
        f"top-1 accuracy (with a trámite)   {_pct(s['top1'])} %  "
        f"({report.top1_right}/{report.top1_total})",
        f"chit-chat opening a trámite       {_pct(s['chat_fp'])} %  "
        f"({report.chat_tramite}/{report.chat_total}); read as a case query "
        f"{report.chat_case}",
        f"two requests, both found          {_pct(s['two_recall'])} %  "
        f"({report.two_both}/{report.two_total})",
        f"  of them two trámites A-L, both  {_pct(s['two_tramites_recall'])} %  "
        f"({report.two_tramites_both}/{report.two_tramites_total})",
        f"two or more requests, all found   {_pct(s['multi_all'])} %  "
        f"({report.multi_all}/{report.multi_total})",
        f"one request, read with another    {_pct(s['single_extra'])} %  "
        f"({report.single_extra}/{report.single_total})",
        f"case status / withdrawal right    {_pct(s['case_query'])} %  "
        f"({report.case_right}/{report.case_total})",
        "",
        "label    precision  recall   found  missed  wrong",
    ]
    for label in LABELS:
        tp, fp, fn = report.true_pos[label], report.false_pos[label], report.false_neg[label]
        if tp + fp + fn:
            lines.append(
                f"{label:<8} {_pct(report.precision(label))} %   {_pct(report.recall(label))} %"
                f"  {tp:5d}  {fn:6d}  {fp:5d}"
            )
    lines += ["", "confusion: rows = main request asked, columns = reading (- = none)"]
    order = list(TRAMITES) + ["est", "anu", NONE]
    short = {"estado": "est", "anular": "anu"}
    cells = Counter()
    for (gold, got), n in report.confusion.items():
        cells[short.get(gold, gold), short.get(got, got)] += n
    lines.append("     " + "".join(f"{c:>4}" for c in order))
    for row in order:
        if not any(cells[row, col] for col in order):
            continue
        lines.append(
            f"{row:<5}" + "".join(f"{cells[row, col] or '.':>4}" for col in order)
        )
    if show_errors and report.errors:
        lines += ["", f"errors (first {min(show_errors, len(report.errors))} of "
                  f"{len(report.errors)}): gold -> tramite [requests] case_query"]
        for gold, got, text in report.errors[:show_errors]:
            flat = " ".join(text.split())
            lines.append(
                f"  {'+'.join(gold) or NONE} -> {got.tramite or NONE} "
                f"[{'+'.join(got.requests)}] {got.case_query or ''}: {flat[:110]}"
            )
    return "\n".join(lines)
