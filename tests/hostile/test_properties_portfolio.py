"""Property-based: any cell content in any portfolio file is either imported or refused with a
PortfolioImportError, never another exception, and a refusal writes nothing."""
from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.portfolio import PortfolioImportError, import_cartera
from tests.portfolio.test_import import GOOD, HEADERS, TABLES

CELLS = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["", " ", "\x00", "=HYPERLINK(\"http://x\")", "1e308", "-0", "NaN", "9" * 40, "2026-02-30",
                     "0000-00-00", "١٢٣", "７０００００００１", "+591 7O000001", "\ufeffnit", "a\nb", "\"", "Bs 1.234,56",
                     "None", "null", "💥" * 30, "x" * 5000, "2026-13", "mrojas\x00"]),
)


def _csv(header: str, rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header.split(","))
    writer.writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


def _counts(session) -> dict[str, int]:
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in TABLES}


@st.composite
def portfolios(draw):
    files = {name: [next(csv.reader([line])) for line in lines] for name, lines in GOOD.items()}
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(files)))
        rows = files[name]
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.integers(0, len(rows[row]) - 1))
        rows[row][column] = draw(CELLS)
    if draw(st.booleans()):  # a ragged row: too few or too many cells
        name = draw(st.sampled_from(sorted(files)))
        files[name].append(draw(st.lists(CELLS, max_size=14)))
    return {name: _csv(HEADERS[name], rows) for name, rows in files.items()}


def test_any_cell_is_imported_or_refused_cleanly(db, tmp_path):
    directory = tmp_path / "cartera"
    directory.mkdir()

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(portfolios())
    def attempt(files):
        for name, data in files.items():
            (directory / name).write_bytes(data)
        with db.sessions() as session:
            before = _counts(session)
            try:
                with session.begin_nested():
                    import_cartera(session, directory)
                    session.flush()
            except PortfolioImportError as exc:
                assert exc.errors and all(str(e) for e in exc.errors)
                assert _counts(session) == before  # nothing half-written
            session.rollback()

    attempt()


@given(st.binary(max_size=300))
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_arbitrary_bytes_as_a_file_are_refused_cleanly(sqlite_db, tmp_path, raw):
    directory = tmp_path / "bytes"
    directory.mkdir(exist_ok=True)
    (directory / "clientes.csv").write_bytes(HEADERS["clientes.csv"].encode() + b"\n" + raw)
    with sqlite_db.sessions() as session:
        try:
            with session.begin_nested():
                import_cartera(session, directory)
                session.flush()
        except PortfolioImportError:
            assert _counts(session)["clients"] == 0
        session.rollback()
