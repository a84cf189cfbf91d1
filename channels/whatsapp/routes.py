"""HTTP only. The signature dependency answers 403 before a handler runs; handlers parse, hand over
to the engine in a thread (it is synchronous) and answer with empty TwiML: replies go out through
the outbox and the REST API, never inline, so Twilio gets its answer well inside 15 seconds."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.datastructures import FormData
from twilio.twiml.messaging_response import MessagingResponse

from bot import documents
from bot.db import session_scope
from bot.models import Document, InboundFailure
from channels.whatsapp import inbound, links, status
from channels.whatsapp.signature import signed_form

log = logging.getLogger(__name__)

router = APIRouter(tags=["whatsapp"])
SignedForm = Annotated[FormData, Depends(signed_form)]  # 403 before the handler runs
EMPTY_TWIML = str(MessagingResponse())
MAX_ROW_ID = 2**31 - 1  # larger ids overflow the INTEGER column: 422, not a 500 from the driver


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


def install_writer_gate(app, settings) -> None:
    """SQLite lets one writer in at a time and its busy handler is not fair: with 32 webhooks at
    once, some waited 10 s for the lock (bench/webhook_load.py) while later ones got in. Queuing
    them here, first come first served, bounds the wait by queue length x service time. PostgreSQL
    locks per conversation and needs no gate."""
    app.state.whatsapp_writer_gate = asyncio.Lock() if settings.is_sqlite else None


def _writer_gate(request: Request):
    gate = getattr(request.app.state, "whatsapp_writer_gate", None)
    return gate if gate is not None else contextlib.nullcontext()


@router.post("/webhooks/whatsapp")
async def incoming(request: Request, form: SignedForm) -> Response:
    runtime = request.app.state.runtime
    form = inbound.clean(form)
    try:
        message = inbound.parse(form)
    except inbound.BadPayload as exc:
        await run_in_threadpool(_record_failure, runtime, form, str(exc))
        return _twiml()  # Twilio retrying the same malformed post would not help
    async with _writer_gate(request):
        await run_in_threadpool(inbound.accept, runtime.conversations, runtime.sessions, runtime.clock,
                                message)
    runtime.worker.wake()  # an in-process worker answers now; a separate one at its next poll
    return _twiml()


@router.post("/webhooks/whatsapp/status")
async def delivery_status(request: Request, form: SignedForm,
                          message: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None) -> Response:
    runtime = request.app.state.runtime
    async with _writer_gate(request):
        await run_in_threadpool(status.apply, runtime.sessions, runtime.settings, runtime.clock, inbound.clean(form),
                                message_id=message)
    return _twiml()


@router.get("/whatsapp/documents/{document_id}")
def document_link(request: Request, document_id: int, expires: int = 0, signature: str = ""):
    """What Twilio fetches for media we send; a plain def, so FastAPI runs it in its threadpool."""
    runtime = request.app.state.runtime
    if not links.verify(runtime.settings, document_id, expires=expires, signature=signature,
                        now=runtime.clock.now()):
        return Response(status_code=403)
    with runtime.sessions() as session:
        document = session.get(Document, document_id)
    if document is None or document.removed_at is not None:  # removed by retention: the file is gone
        return Response(status_code=404)
    return FileResponse(documents.resolve(runtime.settings.documents_dir, document.path),
                        media_type=document.content_type)


def _record_failure(runtime, form: dict[str, str], error: str) -> None:
    log.warning("unusable WhatsApp webhook: %s", error)
    with session_scope(runtime.sessions) as session:
        session.add(InboundFailure(channel=inbound.CHANNEL, external_id=form.get("MessageSid", "")[:255],
                                   sender=form.get("From", "")[:254], error=error,
                                   created_at=runtime.clock.now()))
