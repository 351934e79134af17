"""Staff accounts, for admins: list, create, set a password, enable or disable, and the
counters an account may act for."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hall.errors import Invalid
from hall.web import accounts
from hall.web.deps import Admin, AdminWrite, Web

router = APIRouter()


@router.get("/accounts")
def accounts_list(web: Web, _: Admin) -> list[dict[str, Any]]:
    return accounts.list_accounts(web.ctx)


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(default="", max_length=64)
    staff_no: str = Field(default="", max_length=32)
    """工号, shown on the evaluation pad; empty: none."""
    role: Literal["admin", "counter", "supervisor"]
    counters: list[str] = Field(default_factory=list, max_length=100)
    departments: list[str] = Field(default_factory=list, max_length=100)
    """A supervisor's (department head's) service codes, whose cases it handles."""
    services: list[str] = Field(default_factory=list, max_length=100)
    """The service codes the staff member can handle (staffing plan); empty: not recorded."""
    password: str = Field(min_length=1, max_length=256)


@router.post("/accounts", status_code=201)
def accounts_create(web: Web, _: AdminWrite, body: AccountIn) -> dict[str, Any]:
    return accounts.create_account(
        web.ctx,
        web.settings,
        body.username,
        body.password,
        body.role,
        body.counters,
        body.display_name,
        body.staff_no,
        body.departments,
        body.services,
    )


class PasswordIn(BaseModel):
    password: str = Field(min_length=1, max_length=256)


@router.post("/accounts/{username}/password")
def accounts_password(web: Web, _: AdminWrite, username: str, body: PasswordIn) -> dict[str, Any]:
    account = accounts.set_password(web.ctx, web.settings, username, body.password)
    web.throttle.forget(username)  # a reset unlocks: the delays go with the lock
    return account


class AccountPatch(BaseModel):
    active: bool | None = None
    counters: list[str] | None = Field(default=None, max_length=100)
    display_name: str | None = Field(default=None, max_length=64)
    staff_no: str | None = Field(default=None, max_length=32)
    """A new 工号; "" removes it."""
    services: list[str] | None = Field(default=None, max_length=100)
    """The service codes the staff member can handle; [] removes them."""


@router.post("/accounts/{username}/unlock")
def accounts_unlock(web: Web, _: AdminWrite, username: str) -> dict[str, Any]:
    return accounts.unlock_account(web.ctx, web.throttle, username)


@router.post("/accounts/{username}")
def accounts_update(
    web: Web, session: AdminWrite, username: str, body: AccountPatch
) -> dict[str, Any]:
    if username == session.username and body.active is False:
        raise Invalid("you cannot disable your own account", code="self_disable")
    return accounts.update_account(
        web.ctx,
        username,
        active=body.active,
        counters=body.counters,
        display_name=body.display_name,
        staff_no=body.staff_no,
        services=body.services,
    )
