"""The work queue: my role's cases (mine or unassigned) by due time, and my open handoffs."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from backoffice import repository
from backoffice.repository import QueueFilters
from backoffice.web import DB, Me, render, render_fragment

router = APIRouter()


def _filters(tab: str, tramite: str, estado: str, canal: str, ejecutivo: str, q: str, pagina: int) -> QueueFilters:
    return QueueFilters(tab=tab, tramite=tramite, status=estado, channel=canal, ejecutivo=ejecutivo,
                        q=q[:100], page=pagina)


def _context(session, me, filters: QueueFilters) -> dict:
    return {
        "page": repository.queue(session, me.staff, filters, now=me.now),
        "filters": filters,
        "tasks": repository.open_tasks(session, me.staff),
        "held": repository.held_conversations(session, me.staff),
        "now": me.now,
    }


@router.get("/", name="queue")
def queue_page(request: Request, session: DB, me: Me, tab: str = "todos", tramite: str = "", estado: str = "",
               canal: str = "", ejecutivo: str = "", q: str = "", pagina: int = 1):
    filters = _filters(tab, tramite, estado, canal, ejecutivo, q, pagina)
    return render(request, "backoffice/queue.html", options=repository.filter_options(session),
                  **_context(session, me, filters))


@router.get("/cola/vivo", name="queue_live")
def queue_live(request: Request, session: DB, me: Me, tab: str = "todos", tramite: str = "", estado: str = "",
               canal: str = "", ejecutivo: str = "", q: str = "", pagina: int = 1):
    """The parts of the queue page that change, rendered by the same templates (autoescaped)."""
    filters = _filters(tab, tramite, estado, canal, ejecutivo, q, pagina)
    context = _context(session, me, filters)
    return JSONResponse({"regions": {
        "queue-tabs": render_fragment(request, "backoffice/_queue_tabs.html", **context),
        "queue-table": render_fragment(request, "backoffice/_queue_table.html", **context),
        "queue-held": render_fragment(request, "backoffice/_queue_held.html", **context),
        "queue-tasks": render_fragment(request, "backoffice/_queue_tasks.html", **context),
    }})
