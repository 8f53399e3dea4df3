"""The «Сроки» page: what falls due for the organisation's stored applications, soonest first, and its calendar."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from compliance.settings import today
from compliance.watch import when_text

from ..deadlines import Within, ics_response, organisation_deadlines
from .common import WebAuth, render, service_of

router = APIRouter(include_in_schema=False)
CHOICES = (30, 90, 180, 365)


def _items(request: Request, who, within: int):  # noqa: ANN001, ANN202
    with service_of(request).sessions() as s:
        return organisation_deadlines(s, who.org_id, today(), within)


@router.get("/deadlines")
def deadlines_page(request: Request, who: WebAuth, within: Within = 90) -> Response:
    items, n, unreadable = _items(request, who, within)
    return render(request, "deadlines.html", items=items, applications=n, unreadable=unreadable, within=within,
                  choices=CHOICES, as_of=today(), when_text=when_text,
                  overdue=sum(1 for d in items if d.overdue), dated=sum(1 for d in items if d.due))


@router.get("/deadlines.ics")
def deadlines_ics(request: Request, who: WebAuth, within: Within = 90) -> Response:
    items, _, _ = _items(request, who, within)
    return ics_response(items, today())
