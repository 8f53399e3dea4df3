"""The deadline watch over an organisation's stored applications (the latest version of each): the JSON route
GET /api/v1/deadlines and, through `organisation_deadlines`, the «Сроки» page and its calendar download."""
# (no `from __future__ import annotations`: the route below is built in a function, and FastAPI must see its
# dependencies as objects, not as names it cannot resolve)

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.judgements import JudgementsFile
from compliance.models import Application
from compliance.settings import today
from compliance.storage import ApplicationVersion, StoredApplication, StoredCheck, audit
from compliance.watch import Deadline, deadlines, order, to_ics, within

from .schemas import AsOf
from .service import Caller

Within = Annotated[int, Query(ge=0, le=36500, description="сроки, наступающие не позже чем через столько дней "
                                                           "(просроченные и сроки без даты — всегда)")]
ICS = "text/calendar; charset=utf-8"


class DeadlinesOut(BaseModel):
    as_of: date = Field(description="дата, на которую посчитаны сроки")
    within_days: int = Field(description="на сколько дней вперёд")
    applications: int = Field(description="заявок организации просмотрено")
    unreadable: list[str] = Field([], description="заявки, которые не удалось прочитать (номера)")
    deadlines: list[Deadline] = Field(description="сроки, ближайшие первыми; сроки без даты — в конце")


def _waivers(s: Session, org_id: int, app_ids: list[str]) -> dict[str, JudgementsFile]:
    """The judgements of each application's latest check that had any (their waivers expire)."""
    if not app_ids:
        return {}
    rows = s.scalars(select(StoredCheck).where(StoredCheck.organisation_id == org_id,
                                               StoredCheck.application_id.in_(app_ids),
                                               StoredCheck.judgements.is_not(None))
                     .order_by(StoredCheck.created_at)).all()
    out: dict[str, JudgementsFile] = {}
    for c in rows:  # the newest wins
        try:
            out[c.application_id] = JudgementsFile.model_validate(c.judgements)
        except ValidationError:
            continue
    return out


def organisation_deadlines(s: Session, org_id: int, as_of: date, days: int | None
                           ) -> tuple[list[Deadline], int, list[str]]:
    """The deadlines of the organisation's applications (latest versions), the number of applications, and the ids
    of those that could not be read (a stored body the current model refuses)."""
    rows: list[tuple[StoredApplication, dict[str, Any]]] = list(s.execute(
        select(StoredApplication, ApplicationVersion.body)
        .join(ApplicationVersion, ApplicationVersion.application_id == StoredApplication.id)
        .where(StoredApplication.organisation_id == org_id,
               ApplicationVersion.version == StoredApplication.current_version)))
    judgements = _waivers(s, org_id, [r.id for r, _ in rows])
    items: list[Deadline] = []
    unreadable: list[str] = []
    cache: dict = {}
    for row, body in rows:
        try:  # a stored body was validated when stored: the model alone (no NUL scan, no Russian problems)
            model = Application.model_validate(body)
        except ValidationError:
            unreadable.append(row.id)
            continue
        label = f"заявка № {row.id}" + (f", версия {row.current_version}" if row.current_version > 1 else "")
        items += deadlines(model, as_of, label, judgements.get(row.id), cache, row.id)
    return within(order(items), as_of, days), len(rows), sorted(unreadable)


def api_router(auth: Any, db: Any) -> APIRouter:
    """The JSON routes (built by create_app with its own sign-in and session dependencies)."""
    from .errors import StrictJSONRoute

    r = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute)

    @r.get("/deadlines", tags=["сроки"], response_model=DeadlinesOut,
           summary="Сроки по заявкам организации: решения о соответствии, аренда, документы, договоры, отклонения")
    def list_deadlines(who: Annotated[Caller, Depends(auth)], s: Annotated[Session, Depends(db)], within_: Annotated[
            int, Query(alias="within", ge=0, le=36500, description="на сколько дней вперёд (просроченные — всегда)")]
            = 90, as_of: Annotated[AsOf | None, Query(description="на какую дату (по умолчанию — сегодня)")] = None
                       ) -> DeadlinesOut:
        when = as_of or today()
        items, n, unreadable = organisation_deadlines(s, who.org_id, when, within_)
        audit(s, who.org_id, who.token_id, "deadlines.read", "organisation", str(who.org_id), f"within {within_}")
        s.commit()
        return DeadlinesOut(as_of=when, within_days=within_, applications=n, unreadable=unreadable, deadlines=items)

    return r


def ics_response(items: list[Deadline], as_of: date) -> Response:
    return Response(to_ics(items, as_of), media_type=ICS,
                    headers={"Content-Disposition": f'attachment; filename="deadlines-{as_of.isoformat()}.ics"'})
