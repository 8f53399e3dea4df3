"""Which of the application's documents count on the as-of date, and freshness warnings."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from .catalog import Catalog
from .dating import counts_on
from .formatting import UTILITY_KIND_RU
from .formatting import day
from .labels import DOCUMENT_KINDS
from .models import Application, Document
from .report import DocumentIssue


@dataclass
class DocumentState:
    usable: list[tuple[int, Document]]
    not_counted: list[DocumentIssue]
    warnings: list[DocumentIssue]


def describe(doc: Document, title: str) -> str:
    """A document as a person cites it: its title, then «от 30.05.2025 № 12» (date, then number, as in a legal
    reference). A date or number the title already states is not repeated («… (в редакции от 14.09.2023)», not «…
    от 14.09.2023) от 14.09.2023»); after a title that ends in a number (with its unit) the details follow a comma, so
    that «… требованиям ПП РФ № 794, от 30.05.2025 № 12» never reads as «ПП РФ № 794 № 12»."""
    name = " ".join((doc.title or title).split())
    details = []
    if doc.date and f"от {day(doc.date)}" not in name:
        details.append(f"от {day(doc.date)}")
    number = (doc.number or "").strip()
    if number and not re.search(r"№\s*" + re.escape(number) + r"(?![\w/-])", name):
        details.append(f"№ {number}")
    text = name
    if details:
        # «ПП РФ № 794», «…, 900 кВт»: a number at the end (with its unit) would run into ours; «(протокол № 31)» not
        ends_in_number = re.search(r"\d[^\s()«»]*(\s+[^\W\d_]{1,6}\.?)?$", name)
        text += ("," if ends_in_number else "") + " " + " ".join(details)
    if doc.refers_to:  # a utility kind code is shown in Russian: «(электроснабжение)», not «(electricity)»
        text += f" ({UTILITY_KIND_RU.get(doc.refers_to.strip(), doc.refers_to)})"
    return text


def kind_title(catalog: Catalog, kind: str) -> str:
    """The catalog's title of a document kind; a kind the regime does not list keeps its general Russian name."""
    spec = catalog.rulebook.document_kinds.get(kind)
    return spec.title if spec else DOCUMENT_KINDS.get(kind, kind)


def assess(app: Application, catalog: Catalog, as_of: date, freshness: bool = False) -> DocumentState:
    usable, not_counted, warnings = [], [], []
    for i, doc in enumerate(app.documents):
        problem = counts_on(doc.date, doc.valid_until, as_of, not_yet="датирован позже даты оценки {as_of}")
        if problem:
            title = kind_title(catalog, doc.kind)
            not_counted.append(DocumentIssue(kind=doc.kind, title=title, document=describe(doc, title), problem=problem))
            continue
        usable.append((i, doc))
        spec = catalog.rulebook.document_kinds.get(doc.kind)
        if freshness and spec and spec.freshness_days and doc.date and (as_of - doc.date).days > spec.freshness_days:
            title = kind_title(catalog, doc.kind)
            warnings.append(DocumentIssue(
                kind=doc.kind, title=title, document=describe(doc, title),
                problem=f"старше {spec.freshness_days} дн. на {day(as_of)} ({(as_of - doc.date).days} дн.): получите свежую"))
    return DocumentState(usable, not_counted, warnings)
