"""The application as it stood on the evaluation date: every dated element of the model is judged on that one date.

One rule (``counts_on``) decides whether an element dated from ``start`` to ``end`` counts on the as-of date: it
counts when it was signed (issued, registered) no later than that date and has not expired before it; an unknown
date does not exclude anything. ``on_date`` applies the rule to the whole model — the step between the validated
model and the facts — and returns a copy of the application without what does not count on that date, plus the
Russian reason for every exclusion, keyed by the path of the element in the input:

- residents and infrastructure users (contract date and end), partnerships (agreement date and end) and the
  cluster's contracts between participants (date, term) are left out of the copy: on that date there were none of
  them (an emptied list means «none on that date», never «not stated»);
- a utility whose technical conditions, connection contract or act is dated later, or whose conditions or contract
  expired (``utility_reason``), stays in the copy — the kind is stated — but does not count: its facts fail with
  the reason (a kind left out would read «not stated»);
- a right to a land plot or a building that has not yet arisen (``right_since``) or a lease that has ended
  (``lease_end``) becomes «no right»: the plot or the building stays, the right does not;
- a development programme approved after the date becomes «not approved»;
- an organisation (management company, specialised organisation) registered after the date stays in the copy (the
  application names it), but its facts carry the reason, and «registered legal entity» is false on that date
  (``facts`` asks ``counts_on`` for the registration date).

Documents keep their own step (``documents.py``) and the same rule (``models.document_usable``).
``facts.derive``, ``facts.context`` and ``facts.collections`` accept the application or its dated view; every fact
whose fields touch an excluded path carries the reasons in its evidence, with paths and numbers of the input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from .formatting import UTILITY_KIND_RU, day

if TYPE_CHECKING:
    from .models import Application


def counts_on(start: date | None, end: date | None, as_of: date, *,
              not_yet: str = "от {start} — позже даты оценки {as_of}",
              expired: str = "срок действия истёк {end}") -> str | None:
    """None when an element dated from ``start`` to ``end`` (either may be unknown) counts on ``as_of``, else why not
    (Russian; the templates take {start}, {end} and {as_of}). The start day and the end day themselves count."""
    if start is not None and start > as_of:
        return not_yet.format(start=day(start), end=day(end), as_of=day(as_of))
    if end is not None and end < as_of:
        return expired.format(start=day(start), end=day(end), as_of=day(as_of))
    return None


@dataclass(frozen=True)
class Exclusion:
    path: str  # the element in the input, with the input's list numbers: "residents[3]", "land_plots[0].right"
    reason: str  # Russian: what is not counted and why
    scope: str | None = None  # the utility kind («электроснабжение»): only facts about that kind are touched


_INDEX = re.compile(r"\[(?:\d+|\*)\]")
_UTILITY = re.compile(r"^utilities\[(\d+)\]")


@lru_cache(maxsize=65536)  # a pure function of the path
def _bare(path: str) -> str:
    """'land_plots[0].right' -> 'land_plots.right' (list numbers and [*] dropped)."""
    return _INDEX.sub("", path.partition(" (")[0])


@dataclass
class DatedApplication:
    """The application as it stood on ``as_of`` (``app``), what was left out or downgraded, and for each list that
    lost elements the input number of every element kept (to name fields by the input's numbers)."""

    app: Application
    as_of: date
    exclusions: list[Exclusion] = field(default_factory=list)
    kept: dict[str, list[int]] = field(default_factory=dict)

    def original_index(self, list_path: str, i: int) -> int:
        kept = self.kept.get(list_path)
        return kept[i] if kept is not None else i

    def original_path(self, path: str) -> str:
        """A path into the copy ('residents[1].producing') as a path into the input ('residents[2].producing')."""
        for list_path, kept in self.kept.items():
            prefix = list_path + "["
            if path.startswith(prefix):
                number, _, rest = path[len(prefix):].partition("]")
                if number.isdigit():
                    return f"{prefix}{kept[int(number)]}]{rest}"
        return path

    def reasons_for(self, paths: Iterable[str]) -> list[str]:
        """The reasons of the exclusions that the given fields (sources or missing fields of a fact, numbered as in
        the copy) touch. A field of utilities touches a utility of another kind only when it names no kind: a fact
        about some kinds names them («utilities[*].status (газоснабжение, теплоснабжение)»), a counted utility is
        of its own kind."""
        if not self.exclusions:
            return []
        by_bare = self._by_bare()
        hit: set[int] = set()
        for path in paths:
            bare = _bare(path)
            # the exclusions that cover the field: those of the field itself or of a part it lies in («a.b» covers
            # «a.b.c»), i.e. of each prefix of the bare path that ends before a dot
            end = bare.find(".")
            while True:
                for pos in by_bare.get(bare if end < 0 else bare[:end], ()):
                    if pos not in hit and self._in_scope(self.exclusions[pos], path):
                        hit.add(pos)
                if end < 0:
                    break
                end = bare.find(".", end + 1)
        return [e.reason for pos, e in enumerate(self.exclusions) if pos in hit]

    def _by_bare(self) -> dict[str, list[int]]:
        """The exclusions by their path without list numbers (their positions), computed once (again if exclusions
        were added)."""
        known = self.__dict__.get("_bare_exclusions")
        if known is None or known[0] != len(self.exclusions):
            index: dict[str, list[int]] = {}
            for pos, e in enumerate(self.exclusions):
                index.setdefault(_bare(e.path), []).append(pos)
            known = self.__dict__["_bare_exclusions"] = (len(self.exclusions), index)
        return known[1]

    def _in_scope(self, e: Exclusion, path: str) -> bool:
        if e.scope is None:
            return True
        _, named, kinds = path.partition(" (")
        if named:
            return e.scope in kinds.rstrip(")").split(", ")
        if path.startswith("utilities.") and path[len("utilities."):] in UTILITY_KIND_RU:  # a kind not stated
            return UTILITY_KIND_RU[path[len("utilities."):]] == e.scope
        m = _UTILITY.match(path)
        if m:
            return UTILITY_KIND_RU.get(self.app.utilities[int(m.group(1))].kind) == e.scope
        return True


def on_date(app: "Application | DatedApplication", as_of: date) -> DatedApplication:
    """The dated view of the application on ``as_of`` (the view itself when given one for that date)."""
    if isinstance(app, DatedApplication):
        if app.as_of != as_of:
            raise ValueError(f"dated view of {app.as_of} used for {as_of}")
        return app
    return _Dating(app, as_of).view()


_CONTRACT = dict(not_yet="договор от {start} — заключён после даты оценки {as_of}", expired="договор истёк {end}")
_RIGHT_RU = {"ownership": "собственность", "lease": "аренда", "permanent_use": "постоянное (бессрочное) пользование",
             "free_use": "безвозмездное пользование", "other": "право"}
_UTILITY_PAPER = {"technical_conditions": ("ТУ", "ТУ"),  # the paper, and «срок действия …» of it
                  "connection_contract": ("договор на подключение", "договора на подключение"),
                  "connected": ("акт о подключении", "акта о подключении")}


def utility_reason(ut, as_of: date) -> str | None:
    """Why a utility row does not count on ``as_of`` (its technical conditions, connection contract or act dated
    later, or the conditions or the contract expired; a completed connection does not expire), or None. The row stays
    in the application: the kind is stated, and not secured on that date."""
    if ut.status not in _UTILITY_PAPER:  # absent / not stated: no paper, no dates
        return None
    paper, of_paper = _UTILITY_PAPER[ut.status]
    return counts_on(ut.document_date, None if ut.status == "connected" else ut.valid_until, as_of,
                     not_yet=f"{paper} от {{start}} — позже даты оценки {{as_of}}",
                     expired=f"срок действия {of_paper} истёк {{end}}")


class _Dating:
    def __init__(self, app: Application, as_of: date):
        self.app, self.as_of = app, as_of
        self.exclusions: list[Exclusion] = []
        self.kept: dict[str, list[int]] = {}

    def exclude(self, path: str, subject: str, reason: str, consequence: str, scope: str | None = None) -> None:
        self.exclusions.append(Exclusion(path, f"{subject}: {reason}, {consequence}", scope))

    def view(self) -> DatedApplication:
        app, update = self.app, {}
        for name, subject, dates, wording, consequence in (
                ("residents", self.resident, self.contract_dates, _CONTRACT, "не учтён"),
                ("infrastructure_users", self.user, self.contract_dates, _CONTRACT, "не учтён"),
                ("partnerships", self.partner, self.agreement_dates,
                 dict(not_yet="соглашение от {start} — заключено после даты оценки {as_of}",
                      expired="соглашение истекло {end}"), "не учтено")):
            items = self.filtered(name, getattr(app, name), subject, dates, wording, consequence)
            if items is not None:
                update[name] = items
        for i, ut in enumerate(app.utilities):  # kept: a utility not in force is stated, and fails (facts.py)
            why = utility_reason(ut, self.as_of)
            if why:
                kind = self.utility(ut, i)
                self.exclude(f"utilities[{i}]", kind, why, "не учтено", scope=kind)
        for name, label in (("land_plots", self.plot), ("buildings", self.building)):
            items = self.rights(name, getattr(app, name), label)
            if items is not None:
                update[name] = items
        cluster = self.cluster(app.cluster) if app.cluster else None
        if cluster is not None:
            update["cluster"] = cluster
        self.organisation("management_company", app.management_company, "управляющая компания")
        for i, so in enumerate((app.cluster.specialized_organizations if app.cluster else None) or []):
            self.organisation(f"cluster.specialized_organizations[{i}]", so, "специализированная организация")
        dated = app.model_copy(update=update) if update else app
        return DatedApplication(dated, self.as_of, self.exclusions, self.kept)

    # -- lists whose elements do not count before their start or after their end ------------------------------------
    def filtered(self, path: str, items: list | None, subject, dates, wording: dict,
                 consequence: str) -> list | None:
        """The elements that count on the date (None: all of them; an emptied list is «none on that date»)."""
        if not items:  # none, or not stated: nothing to judge
            return None
        keep, kept = [], []
        for i, item in enumerate(items):
            start, end = dates(item)
            why = counts_on(start, end, self.as_of, **wording)
            if why is None:
                keep.append(item)
                kept.append(i)
            else:
                label = subject(item, i)
                self.exclude(f"{path}[{i}]", label, why, consequence)
        if len(keep) == len(items):
            return None
        self.kept[path] = kept
        return keep

    @staticmethod
    def contract_dates(r) -> tuple[date | None, date | None]:
        return r.contract_date, r.contract_end

    @staticmethod
    def agreement_dates(p) -> tuple[date | None, date | None]:
        return p.agreement_date, p.agreement_end

    @staticmethod
    def resident(r, i: int) -> str:
        return f"{'планируемый резидент' if r.planned else 'резидент'} {r.name} (ИНН {r.inn})"

    @staticmethod
    def user(r, i: int) -> str:
        return f"пользователь инфраструктуры {r.name} (ИНН {r.inn})"

    @staticmethod
    def utility(ut, i: int) -> str:
        return UTILITY_KIND_RU.get(ut.kind, ut.kind)

    @staticmethod
    def partner(p, i: int) -> str:
        return f"партнёр {p.organisation}"

    # -- rights to land plots and buildings -------------------------------------------------------------------------
    @staticmethod
    def plot(p, i: int) -> str:
        return f"участок {p.cadastral_number}" if p.cadastral_number else f"участок № {i + 1} (без кадастрового номера)"

    @staticmethod
    def building(b, i: int) -> str:
        return f"здание {b.cadastral_number or b.name or f'№ {i + 1}'}"

    def rights(self, path: str, items: list | None, label) -> list | None:
        """A right not yet arisen or a lease ended is no right on that date; the object itself stays."""
        out, changed = [], False
        for i, x in enumerate(items or []):
            why = None
            if x.right not in (None, "none"):
                right = _RIGHT_RU[x.right]
                why = counts_on(x.right_since, x.lease_end if x.right == "lease" else None, self.as_of,
                                not_yet=f"{right} с {{start}} — позже даты оценки {{as_of}}",
                                expired="аренда истекла {end}")
            if why is None:
                out.append(x)
                continue
            self.exclude(f"{path}[{i}].right", label(x, i), why, "право не учтено")
            out.append(x.model_copy(update={"right": "none"}))
            changed = True
        return out if changed else None

    # -- the cluster: contracts between participants, the development programme --------------------------------------
    def cluster(self, cluster) -> Any:
        update = {}
        contracts = self.filtered("cluster.contracts", cluster.contracts, self.contract, self.cluster_contract_dates,
                                  dict(not_yet="заключён {start} — после даты оценки {as_of}",
                                       expired="истёк {end}"), "не учтён")
        if contracts is not None:
            update["contracts"] = contracts
        prog = cluster.programme
        why = counts_on(prog.approved_date, None, self.as_of,
                        not_yet="утверждена {start} — позже даты оценки {as_of}") if prog and prog.approved else None
        if why:
            self.exclude("cluster.programme", "программа развития кластера", why, "не учтена")
            update["programme"] = prog.model_copy(update={"approved": False})
        return cluster.model_copy(update=update) if update else None

    @staticmethod
    def cluster_contract_dates(c) -> tuple[date | None, date | None]:
        return c.date, c.valid_until

    def contract(self, c, i: int) -> str:
        return f"договор {c.number or f'№ {i + 1}'} (ИНН {c.party_a_inn} — ИНН {c.party_b_inn})"

    # -- organisations -----------------------------------------------------------------------------------------------
    def organisation(self, path: str, org, who: str) -> None:
        why = counts_on(org.registration_date, None, self.as_of,
                        not_yet="зарегистрирована {start} — позже даты оценки {as_of}") if org else None
        if why:
            self.exclude(path, f"{who} {org.name} (ИНН {org.inn})", why, "на дату оценки не существовала")
