"""PDF downloads of the service: the Word document of a route, converted by LibreOffice (compliance/pdf.py) with the
service's settings (COMPLIANCE_SOFFICE, COMPLIANCE_PDF_TIMEOUT). The routes are plain functions, so FastAPI runs them
in its worker threads (anyio.to_thread): a conversion of a few seconds never holds up the event loop. Conversions at
once are limited to the processor count; no converter, a failed or a too slow conversion is a 503 with a Russian
message."""
from __future__ import annotations

import os
import threading

from compliance.pdf import ConverterMissing, PdfError, docx_to_pdf
from compliance.settings import Settings

from .errors import ApiError

PDF = "application/pdf"
_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
RESPONSES_503 = ("преобразование в PDF недоступно: на сервере не установлен LibreOffice, преобразование не удалось "
                 "или не уложилось в отведённое время")


def pdf_or_503(data: bytes, settings: Settings) -> bytes:
    """The PDF of the Word document ``data``; ApiError(503) saying why not."""
    if not _SLOTS.acquire(timeout=settings.pdf_timeout):
        raise ApiError(503, "сервер занят преобразованием других документов в PDF: повторите запрос позже",
                       headers={"Retry-After": "5"})
    try:
        return docx_to_pdf(data, soffice=settings.soffice or "", timeout=settings.pdf_timeout)
    except ConverterMissing:
        raise ApiError(503, "Отчёты PDF недоступны на этом сервере: не установлен LibreOffice. Скачайте отчёт Word "
                            "(.docx).") from None
    except PdfError as exc:
        raise ApiError(503, str(exc), headers={"Retry-After": "5"}) from None
    finally:
        _SLOTS.release()
