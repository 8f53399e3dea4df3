"""Web page: the organisation's details that its Word documents show — the full name and address in the letterhead,
the logo, who signs «Подготовил» and the prefix of the outgoing number (compliance.organisation). Saved on the
organisation's record; every download of a report then carries them. A failed save answers 422 with each message
next to its field and everything typed kept; the stored details are not changed."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from compliance.loading import InputError
from compliance.organisation import FIELD_RU, LOGO_MAX_BYTES, OrganisationFile, check_logo, message_ru
from compliance.storage import Organisation, audit

from ..errors import ApiError
from .common import WebAuth, form_text, read_form, redirect, render, service_of

router = APIRouter(include_in_schema=False)

# form field -> (field of OrganisationFile, column of Organisation)
FIELDS = {"legal_name": ("name", "legal_name"), "address": ("address", "address"),
          "signer_name": ("signer_name", "signer_name"), "signer_position": ("signer_position", "signer_position"),
          "outgoing_prefix": ("outgoing_prefix", "outgoing_prefix")}
LABELS = {"legal_name": "Полное наименование организации", "address": "Адрес",
          "signer_name": "Подписант: фамилия и инициалы", "signer_position": "Подписант: должность",
          "outgoing_prefix": "Префикс исходящего номера", "logo": "Логотип"}
MESSAGES = {"saved": "Реквизиты сохранены: они появятся в следующих скачанных отчётах Word."}


def _org(request: Request, who) -> Organisation:  # noqa: ANN001
    with service_of(request).sessions() as s:
        org = s.get(Organisation, who.org_id)
        if org is None:  # pragma: no cover - a token always has its organisation
            raise ApiError(404, "Организация не найдена.")
        return org


def _page(request: Request, values: dict[str, str], has_logo: bool, errors: dict[str, list[str]] | None = None,
          status: int = 200, message: str | None = None) -> Response:
    return render(request, "organisation.html", status=status, nav="organisation", values=values, labels=LABELS,
                  errors=errors or {}, has_logo=has_logo, logo_max_kb=LOGO_MAX_BYTES // 1024, message=message)


@router.get("/organisation")
def organisation_page(request: Request, who: WebAuth, msg: Annotated[str, Query(max_length=40)] = "") -> Response:
    org = _org(request, who)
    values = {name: getattr(org, column) or "" for name, (_, column) in FIELDS.items()}
    return _page(request, values, org.logo is not None, message=MESSAGES.get(msg))


@router.get("/organisation/logo")
def organisation_logo(request: Request, who: WebAuth) -> Response:
    from docx.image.image import Image

    org = _org(request, who)
    if org.logo is None:
        raise ApiError(404, "Логотип не загружен.")
    return Response(org.logo, media_type=Image.from_blob(org.logo).content_type,
                    headers={"Cache-Control": "no-store"})


@router.post("/organisation")
async def save_organisation(request: Request, who: WebAuth) -> Response:
    form = await read_form(request)
    values = {name: form_text(form, name).replace("\r\n", " ").replace("\n", " ").strip() for name in FIELDS}
    errors: dict[str, list[str]] = {}
    data = {model: values[name] for name, (model, _) in FIELDS.items() if values[name]}
    try:
        OrganisationFile.model_validate(data)
    except ValidationError as exc:
        by_model = {model: name for name, (model, _) in FIELDS.items()}
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else ""
            errors.setdefault(by_model.get(key, "legal_name"), []).append(message_ru(err))
    upload = form.get("logo")
    logo: bytes | None = None
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(LOGO_MAX_BYTES + 1)
        try:
            logo = check_logo(raw, "logo")
        except InputError as exc:
            errors.setdefault("logo", []).extend(p.message for p in exc.problems)
    remove_logo = form_text(form, "remove_logo") == "yes"
    org = _org(request, who)
    if errors:
        return _page(request, values, org.logo is not None, errors, status=422)
    with service_of(request).sessions() as s:
        row = s.get(Organisation, who.org_id)
        for name, (_, column) in FIELDS.items():
            setattr(row, column, values[name] or None)
        if logo is not None:
            row.logo = logo
        elif remove_logo:
            row.logo = None
        changed = [FIELD_RU[model] for name, (model, _) in FIELDS.items() if values[name]]
        audit(s, who.org_id, who.token_id, "organisation.update", "organisation", str(who.org_id),
              "; ".join(changed + (["логотип"] if logo is not None else []))[:1000] or None)
        s.commit()
    return redirect("/organisation?msg=saved")
