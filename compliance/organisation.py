"""The details of the organisation that issues a document (its letterhead, its signer, its outgoing number): from a
file for the command line (`compliance check … --organisation FILE`, or the setting COMPLIANCE_ORGANISATION_FILE), or
from the organisation's record in the service (the page «Реквизиты»). Nothing of it is in the code: a document
without details has blank lines to fill in by hand.

File format (YAML or JSON, every field optional)::

    name: ООО «Управляющая компания „Север“»
    address: 300001, г. Тула, ул. Промышленная, д. 1
    logo: logo.png                  # PNG or JPEG, relative to the file; up to 1 MB
    signer_name: И. И. Петров
    signer_position: Генеральный директор
    outgoing_prefix: УК-
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .loading import InputError, Problem, parse_document

LOGO_MAX_BYTES = 1024 * 1024
LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
SOURCE = "--organisation"

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Prefix = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]

# The Russian name of each field, for messages (the key is what the user wrote in the file)
FIELD_RU = {"name": "наименование организации", "address": "адрес", "logo": "логотип",
            "signer_name": "подписант: фамилия и инициалы", "signer_position": "подписант: должность",
            "outgoing_prefix": "префикс исходящего номера"}


class OrganisationFile(BaseModel):
    """Реквизиты организации, которая выпускает документ."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(None, description="наименование организации для шапки документа")
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = Field(
        None, description="адрес организации для шапки документа")
    logo: Line | None = Field(None, description="файл логотипа (PNG или JPEG, до 1 МБ), путь относительно файла "
                                                "реквизитов")
    signer_name: Short | None = Field(None, description="кто подписывает документ: фамилия и инициалы")
    signer_position: Short | None = Field(None, description="должность подписанта")
    outgoing_prefix: Prefix | None = Field(None, description="начало исходящего номера, например «УК-»")


@dataclass(frozen=True)
class Issuer:
    """What a document shows of the organisation that issues it; every field may be empty (blank lines then)."""

    name: str | None = None
    address: str | None = None
    logo: bytes | None = None
    signer_name: str | None = None
    signer_position: str | None = None
    outgoing_prefix: str | None = None
    outgoing_number: str | None = None
    outgoing_date: date | None = None

    def with_outgoing(self, number: str | None = None, when: date | None = None) -> "Issuer":
        return replace(self, outgoing_number=number or self.outgoing_number, outgoing_date=when or self.outgoing_date)


def check_logo(data: bytes, where: str) -> bytes:
    """The image, if Word can show it as a logo (PNG or JPEG, up to 1 MB); InputError otherwise."""
    from docx.image.exceptions import InvalidImageStreamError, UnexpectedEndOfFileError, UnrecognizedImageError
    from docx.image.image import Image

    if len(data) > LOGO_MAX_BYTES:
        raise InputError([Problem(where, f"логотип больше 1 МБ ({len(data) // 1024} КБ): уменьшите изображение")])
    try:
        image = Image.from_blob(data)
    except (UnrecognizedImageError, UnexpectedEndOfFileError, InvalidImageStreamError, ValueError, IndexError,
            KeyError, TypeError, ZeroDivisionError, struct.error):  # not an image, or a broken one
        image = None
    if image is None or image.content_type not in LOGO_TYPES:
        raise InputError([Problem(where, "логотип должен быть изображением PNG или JPEG")])
    if image.px_width <= 0 or image.px_height <= 0:
        raise InputError([Problem(where, "у изображения логотипа нулевая ширина или высота")])
    return data


def _problem(path: str, message: str) -> Problem:
    key = path.split(".", 1)[0]
    label = FIELD_RU.get(key)
    return Problem(SOURCE, f"поле «{key}» ({label}): {message}" if label else
                   (f"лишнее поле «{key}»: допустимы {', '.join(f'«{k}»' for k in FIELD_RU)}" if key else message))


def load_organisation(path: Path | str) -> Issuer:
    """The details from a file (YAML or JSON); InputError with Russian messages naming the field."""
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem(SOURCE, f"файл реквизитов организации не найден: {path}")])
    data = parse_document(path.read_bytes(), path.name, SOURCE)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError([Problem(SOURCE, "файл реквизитов организации должен содержать поля «имя: значение» "
                                          f"({', '.join(f'«{k}»' for k in FIELD_RU)}), а не "
                                          f"{'список' if isinstance(data, list) else 'одно значение'}")])
    try:
        model = OrganisationFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else ""
            if err["type"] == "extra_forbidden":
                problems.append(_problem(key, ""))
                continue
            problems.append(_problem(key, message_ru(err)))
        raise InputError(problems) from None
    logo = None
    if model.logo:
        logo_path = (path.parent / model.logo) if not Path(model.logo).is_absolute() else Path(model.logo)
        where = f"{SOURCE}: поле «logo» ({FIELD_RU['logo']})"
        if not logo_path.is_file():
            raise InputError([Problem(where, f"файл логотипа не найден: {logo_path}")])
        logo = check_logo(logo_path.read_bytes(), where)
    return Issuer(name=model.name, address=model.address, logo=logo, signer_name=model.signer_name,
                  signer_position=model.signer_position, outgoing_prefix=model.outgoing_prefix)


def message_ru(err: dict[str, Any]) -> str:
    """A pydantic error in Russian, as the application's messages say it."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "string_type":
        return "ожидается текст"
    if kind == "string_too_short":
        return "пустое значение: укажите его или уберите поле"
    if kind == "string_too_long":
        return f"слишком длинное значение: не больше {ctx.get('max_length')} символов"
    return "недопустимое значение"


def issuer_of(row: Any) -> Issuer | None:
    """The details of the service's organisation record (storage.Organisation), None when none are filled in."""
    if row is None:
        return None
    issuer = Issuer(name=row.legal_name, address=row.address, logo=row.logo, signer_name=row.signer_name,
                    signer_position=row.signer_position, outgoing_prefix=row.outgoing_prefix)
    return issuer if any((issuer.name, issuer.address, issuer.logo, issuer.signer_name, issuer.signer_position,
                          issuer.outgoing_prefix)) else None

