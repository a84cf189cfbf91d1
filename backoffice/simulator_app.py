"""/simulador (DEMO_MODE only): a WhatsApp-like chat and an email form for trying the bot without
Twilio or a mailbox. Not signed in (it plays the client), but its forms carry a CSRF token bound to
a signed cookie, and it gets the same security headers as the back-office."""
from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from backoffice import security, simulator
from backoffice.web import render, runtime_of, signing_of
from bot.db import session_scope

COOKIE = "pv_simulator"


def create_simulator(runtime) -> FastAPI:
    app = FastAPI(title="Simulador", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.signing = security.Signing(security.secret_key(runtime.settings))
    app.add_middleware(security.SecurityHeadersMiddleware)

    def visitor_token(request: Request) -> str | None:
        return signing_of(request).unsign_prelogin(request.cookies.get(COOKIE))

    @app.get("/", name="simulator")
    def page(request: Request, telefono: str = "+59170000001", correo: str = "contabilidad@empresa.bo"):
        signing = signing_of(request)
        token = visitor_token(request) or security.new_token()
        response = render(request, "backoffice/simulator.html", sim_csrf=signing.prelogin_csrf(token),
                          phone=telefono, email=correo)
        response.set_cookie(COOKIE, signing.sign_prelogin(token), httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path=request.scope.get("root_path") or "/")
        return response

    @app.post("/enviar", name="simulator_send")
    def send(request: Request, canal: Annotated[str, Form()] = "", direccion: Annotated[str, Form()] = "",
             texto: Annotated[str, Form()] = "", asunto: Annotated[str, Form()] = "",
             csrf_token: Annotated[str, Form()] = "", archivo: Annotated[UploadFile | None, File()] = None):
        token = visitor_token(request)
        if token is None or not security.same(csrf_token, signing_of(request).prelogin_csrf(token)):
            return JSONResponse({"error": "csrf"}, status_code=403)
        files = []
        if archivo is not None and archivo.filename:
            files.append(simulator.FileUpload(archivo.filename, archivo.file.read(25 * 1024 * 1024)))
        try:
            outcome = simulator.send(runtime_of(request).conversations, kind=canal, address=direccion, body=texto,
                                     subject=asunto, files=files)
        except simulator.BadInput:
            return JSONResponse({"error": "bad_input"}, status_code=400)
        return JSONResponse({"ok": True, "conversation_id": outcome.conversation_id})

    @app.get("/mensajes", name="simulator_messages")
    def messages(request: Request, canal: str = "", direccion: str = ""):
        with session_scope(runtime_of(request).sessions) as session:
            try:
                items = simulator.history(session, kind=canal, address=direccion)
            except simulator.BadInput:
                return JSONResponse({"error": "bad_input"}, status_code=400)
        return JSONResponse({"messages": items})

    return app
