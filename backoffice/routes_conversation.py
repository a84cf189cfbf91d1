"""Take over, reply, send the re-engagement template, hand back; and the conversation page for
handoffs that have no case. Forms on the case page post here with the case id."""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from backoffice import policy, repository, takeover
from backoffice.views import conversation_page_context, load_case, load_conversation
from backoffice.web import (
    DB,
    Me,
    NotFound,
    flash_url,
    redirect,
    render,
    render_fragment,
    runtime_of,
    url,
)
from bot import documents

router = APIRouter()


@router.get("/conversaciones/{conversation_id}", name="conversation")
def conversation_page(request: Request, session: DB, me: Me, conversation_id: int):
    conversation, related = load_conversation(session, me, conversation_id)
    return render(request, "backoffice/conversation.html",
                  **conversation_page_context(session, me, conversation, related, composer=True))


@router.get("/conversaciones/{conversation_id}/vivo", name="conversation_live")
def conversation_live(request: Request, session: DB, me: Me, conversation_id: int):
    conversation, related = load_conversation(session, me, conversation_id)
    context = conversation_page_context(session, me, conversation, related)
    return JSONResponse({"regions": {
        "timeline": render_fragment(request, "backoffice/_timeline.html", **context),
        "holder": render_fragment(request, "backoffice/_holder.html", **context),
    }})


def _target(session, me, conversation_id: int, case_id: int | None):
    """The conversation, the case the form came from (it must be this conversation's) and where to
    go back to."""
    if case_id:
        case = load_case(session, me, case_id)
        if case.conversation_id != conversation_id:
            raise NotFound()
        conversation = repository.conversation(session, conversation_id)
        return conversation, case, ("case", {"case_id": case.id})
    conversation, _ = load_conversation(session, me, conversation_id)
    return conversation, None, ("conversation", {"conversation_id": conversation.id})


def _run(request: Request, session, me, conversation_id: int, case_id: int | None, done: str, call):
    conversation, case, (name, params) = _target(session, me, conversation_id, case_id)
    back = url(request, name, **params)
    try:
        call(conversation, case)
    except takeover.TakeoverRefused as exc:
        session.rollback()
        return redirect(flash_url(back, error=exc.reason) + (f"&holder={exc.holder}" if exc.holder else ""))
    return redirect(flash_url(back, ok=done))


@router.post("/conversaciones/{conversation_id}/tomar", name="take_over")
def take_over(request: Request, session: DB, me: Me, conversation_id: int,
              case_id: Annotated[int | None, Form()] = None):
    return _run(request, session, me, conversation_id, case_id, "taken_over",
                lambda conv, case: takeover.take_over(session, me.staff, conv, case=case, now=me.now))


@router.post("/conversaciones/{conversation_id}/responder", name="reply")
def reply(request: Request, session: DB, me: Me, conversation_id: int, body: Annotated[str, Form()] = "",
          case_id: Annotated[int | None, Form()] = None,
          archivo: Annotated[list[UploadFile], File()] = []):  # noqa: B006 (FastAPI reads the default)
    # One byte over the cap is enough to refuse the file (documents.check says "too_large").
    files = [(f.filename or "", f.file.read(documents.MAX_BYTES + 1)) for f in archivo[:takeover.MAX_FILES + 1]]
    return _run(request, session, me, conversation_id, case_id, "replied",
                lambda conv, case: takeover.reply(session, me.staff, conv, body=body, case=case, now=me.now,
                                                  files=files,
                                                  documents_dir=runtime_of(request).settings.documents_dir))


@router.post("/conversaciones/{conversation_id}/plantilla", name="send_template")
def send_template(request: Request, session: DB, me: Me, conversation_id: int,
                  case_id: Annotated[int | None, Form()] = None):
    return _run(request, session, me, conversation_id, case_id, "template_sent",
                lambda conv, case: takeover.send_reengage_template(session, me.staff, conv, case=case, now=me.now))


@router.post("/conversaciones/{conversation_id}/devolver", name="hand_back")
def hand_back(request: Request, session: DB, me: Me, conversation_id: int, step: Annotated[str, Form()] = "",
              case_id: Annotated[int | None, Form()] = None):
    return _run(request, session, me, conversation_id, case_id, "handed_back",
                lambda conv, case: takeover.hand_back(session, me.staff, conv, step=step, case=case, now=me.now))


def _download_name(filename: str, document_id: int) -> str:
    """The client's file name is untrusted: no path, no control characters, bounded length."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" .")
    return name[:120] or f"documento-{document_id}"


@router.get("/documentos/{document_id}", name="document")
def document(request: Request, session: DB, me: Me, document_id: int, descargar: int = 0):
    doc = repository.document(session, document_id)
    if doc is None:
        raise NotFound()
    if doc.case_id is not None:
        load_case(session, me, doc.case_id)
    else:
        conversation_id = repository.document_conversation_id(session, doc)
        if conversation_id is None:
            raise policy.Forbidden("document")
        load_conversation(session, me, conversation_id)
    try:
        path = documents.resolve(runtime_of(request).settings.documents_dir, doc.path)
    except PermissionError:
        raise NotFound() from None
    if not path.is_file():
        raise NotFound()
    csp = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    if doc.content_type != "application/pdf":
        csp += "; sandbox"  # Chromium's PDF viewer does not run in a sandboxed document
    return FileResponse(path, media_type=doc.content_type, filename=_download_name(doc.filename, doc.id),
                        content_disposition_type="attachment" if descargar else "inline",
                        headers={"content-security-policy": csp})
