"""Users page: the responsable creates accounts, sets passwords, deactivates people."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from backoffice import accounts, policy, repository
from backoffice.web import DB, Me, NotFound, flash_url, redirect, render, url

router = APIRouter()


@router.get("/usuarios", name="users")
def users_page(request: Request, session: DB, me: Me):
    policy.require_page(me.staff, "users")
    return render(request, "backoffice/users.html", staff=repository.all_staff(session), roles=policy.roles(),
                  min_password=accounts.MIN_PASSWORD)


@router.post("/usuarios", name="user_save")
def user_save(request: Request, session: DB, me: Me, username: Annotated[str, Form()] = "",
              role: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
              full_name: Annotated[str, Form()] = "", email: Annotated[str, Form()] = ""):
    policy.require_page(me.staff, "users")
    try:
        accounts.create_or_update(session, username=username, role=role, password=password,
                                  full_name=full_name.strip()[:200], email=email.strip()[:254])
    except accounts.InvalidAccount as exc:
        session.rollback()
        return redirect(flash_url(url(request, "users"), error=f"account_{exc.reason}"))
    return redirect(flash_url(url(request, "users"), ok="user_saved"))


@router.post("/usuarios/{staff_id}/activo", name="user_active")
def user_active(request: Request, session: DB, me: Me, staff_id: int, active: Annotated[str, Form()] = ""):
    policy.require_page(me.staff, "users")
    staff = repository.staff_by_id(session, staff_id)
    if staff is None:
        raise NotFound()
    if staff.id == me.staff.id:
        return redirect(flash_url(url(request, "users"), error="self"))
    accounts.set_active(session, staff, active == "1")
    return redirect(flash_url(url(request, "users"), ok="user_saved"))
