"""Web pages: the requirement catalogs — for each regime the act and its amendments, every requirement with what the
program checks (in plain Russian, generated from the rule), its dated norms with their confidence and reference, and
the expert review document (.docx) to correct the catalog against the official text."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from compliance.catalog import CONFIDENCE_RU, UNCONFIRMED, available_regimes, load_catalog
from compliance.word import R, catalog_docx, cases_for, norms_text, special_text, what_it_checks

from ..errors import ApiError
from ..pdfs import PDF, pdf_or_503
from .common import WebAuth, render, service_of

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
