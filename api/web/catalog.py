"""Web pages: the requirement catalogs — for each regime the act and its amendments, every requirement with what the
program checks (in plain Russian, generated from the rule), its dated norms with their confidence and reference, and
the expert review document (.docx) to correct the catalog against the official text."""
from __future__ import annotations

import base64
import shlex
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from compliance.catalog import CONFIDENCE_RU, UNCONFIRMED, available_regimes, load_catalog
from compliance.formatting import size
from compliance.loading import InputError, InputTooLarge, Problem
from compliance.word import R, catalog_docx, cases_for, norms_text, special_text, what_it_checks

from ..errors import ApiError
from ..pdfs import PDF, pdf_or_503
from .common import WebAuth, problems_view, read_form, render, service_of

router = APIRouter(include_in_schema=False)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KIND_RU = {"automated": "проверяется автоматически", "manual": "оценивает эксперт", "informational": "для сведения",
           "document": "проверка документов"}
Code = Annotated[str, PathParam(max_length=40)]


def _runs(para: Any) -> list[dict[str, Any]]:
    """A paragraph of compliance.word (a string or runs of R) as runs for the template."""
    if isinstance(para, str):
        return [{"text": para, "bold": False, "italic": False}]
    if isinstance(para, R):
        para = [para]
    return [{"text": r.text, "bold": r.bold, "italic": r.italic} for r in para if isinstance(r, R)]


def _catalog(code: str):
    if code not in available_regimes():
        raise ApiError(404, f"Режима «{code}» нет; доступны: {', '.join(available_regimes())}.")
    return load_catalog(code)


def _unconfirmed(catalog) -> int:
    return sum(1 for r in catalog.decree.requirements if r.confidence in UNCONFIRMED)


@router.get("/catalog")
def catalogs(request: Request, who: WebAuth) -> Response:
    items = []
    for code in available_regimes():
        cat = load_catalog(code)
        items.append({"code": code, "title": cat.decree.title, "act": cat.decree.act.citation,
                      "version": cat.decree.catalog_version, "hash": cat.content_hash[:12],
                      "requirements": len(cat.decree.requirements), "unconfirmed": _unconfirmed(cat)})
    return render(request, "catalog.html", items=items, nav="catalog")


@router.get("/catalog/{code}")
def catalog_page(request: Request, who: WebAuth, code: Code,
                 unconfirmed: Annotated[bool, Query()] = False) -> Response:
    cat = _catalog(code)
    dec = cat.decree
    blocks: dict[str, list[dict[str, Any]]] = {}
    for req in dec.requirements:
        if unconfirmed and req.confidence not in UNCONFIRMED:
            continue
        rule = cat.rules.get(req.id)
        blocks.setdefault(dec.blocks.get(req.block, req.block), []).append({
            "id": req.id, "title": req.title, "clause": req.clause, "text": " ".join(req.text.split()),
            "kind": KIND_RU.get(req.kind, req.kind), "confidence": req.confidence,
            "confidence_text": CONFIDENCE_RU[req.confidence], "unconfirmed": req.confidence in UNCONFIRMED,
            "severity": rule.severity if rule else None, "checks": what_it_checks(cat, req),
            "norms": [_runs(p) for p in norms_text(cat, req)], "special": special_text(cat, req),
            "cases": cases_for(cat, req.id)})
    return render(request, "catalog_regime.html", code=code, decree=dec, blocks=blocks, nav="catalog",
                  hash=cat.content_hash, unconfirmed=unconfirmed, total=len(dec.requirements),
                  unconfirmed_count=_unconfirmed(cat), confidence_ru=CONFIDENCE_RU)


@router.get("/catalog/{code}/review.docx")
def catalog_review(request: Request, who: WebAuth, code: Code) -> Response:
    data = catalog_docx(_catalog(code))
    return Response(data, media_type=DOCX,
                    headers={"Content-Disposition": f'attachment; filename="catalog-{code}-review.docx"'})


@router.get("/catalog/{code}/review.pdf")
def catalog_review_pdf(request: Request, who: WebAuth, code: Code) -> Response:
    """The review document converted to PDF (for reading; the expert fills in the Word document)."""
    data = pdf_or_503(catalog_docx(_catalog(code)), service_of(request).settings)
    return Response(data, media_type=PDF,
                    headers={"Content-Disposition": f'attachment; filename="catalog-{code}-review.pdf"'})


# --- checking the catalog against the text of its act (`compliance catalog verify` on the page) ------------------------
ACT_SUFFIXES = ".docx,.rtf,.html,.htm,.txt,.pdf"


def _verify_page(request: Request, code: str, status: int = 200, problems: list[Problem] | None = None,
                 filename: str | None = None, result: dict[str, Any] | None = None) -> Response:
    cat = _catalog(code)
    name = shlex.quote(result["view"]["file"]) if result is not None else "ФАЙЛ"  # a refused file is not the act
    command = f"compliance catalog verify --regime {code} --text {name} --apply"
    docx = None
    if result is not None:
        docx = "data:" + DOCX + ";base64," + base64.b64encode(result["docx"]).decode("ascii")
    return render(request, "catalog_verify.html", status=status, code=code, decree=cat.decree, nav="catalog",
                  problems=problems_view(problems or []), filename=filename, view=(result or {}).get("view"),
                  docx=docx, command=command, accept=ACT_SUFFIXES)


@router.get("/catalog/{code}/verify")
def verify_form(request: Request, who: WebAuth, code: Code) -> Response:
    return _verify_page(request, code)


@router.post("/catalog/{code}/verify")
async def verify_upload(request: Request, who: WebAuth, code: Code) -> Response:
    """The act's file checked against the catalog: the result on a page, or the review document (.docx) when the
    «docx» button was pressed. Nothing is stored and the catalog is not changed: that is `--apply` in the CLI."""
    _catalog(code)  # 404 for an unknown regime before anything is read
    form = await read_form(request)
    service = service_of(request)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _verify_page(request, code, 422, [Problem("file", "выберите файл с текстом акта: документ Word, RTF, "
                                                                 "HTML, текстовый файл или PDF")])
    limit = service.settings.max_body_bytes
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        return _verify_page(request, code, 413, [Problem("file", f"файл больше допустимого ({size(limit)})")],
                            file.filename)
    try:
        result = await service.verify_act(raw, file.filename, code)
    except InputError as exc:
        return _verify_page(request, code, 413 if isinstance(exc, InputTooLarge) else 422, exc.problems, file.filename)
    if form.get("output") == "docx":
        return Response(result["docx"], media_type=DOCX,
                        headers={"Content-Disposition": f'attachment; filename="catalog-{code}-verify.docx"'})
    return _verify_page(request, code, result=result, filename=file.filename)
