"""Assessor judgements and waivers (kept in a file next to the application), applied to the computed findings;
and, for regimes with an assessment section (GOST R 56425), block scores and the conclusion.

A judgements file names the application it assesses (the management company's INN, the site and the input hash of
the application version); `bind` refuses it for another application or version unless the caller overrides
explicitly, and the report then says so on its first page. Verdicts that contradict a computed fact the catalog
declares (rules/*.yaml, `consistency` of a manual criterion) are listed in the conclusion."""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import settings
from .catalog import Catalog
from .facts import first_specialized_organization
from .fingerprint import input_hash
from .formatting import day, norm_phrase, round_half_up, value as fmt_value
from .labels import regime_name
from .loading import InputError, Problem, parse_document, problems_from
from .models import Application, Day
from .report import (STATUS_RU, AssessmentResult, BlockScore, Contradiction, Finding, JudgementRecord, WaiverRecord)

Text = Annotated[str, Field(min_length=1)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Judgement(Strict):
    requirement_id: Text
    verdict: Literal["met", "not_met", "not_applicable"]
    comment: Text
    evidence: str | None = Field(None, description="документ-основание: реквизиты, страница, файл")
    assessor: str | None = None
    date: Day | None = None


class Waiver(Strict):
    requirement_id: Text
    justification: Text
    expires: Day
    approved_by: str | None = None
    date: Day | None = None


class AssessedApplication(Strict):
    """Заявка, по которой вынесены оценки. Пишет `compliance judgements bind ЗАЯВКА ФАЙЛ` или страница оценки."""

    inn: str | None = Field(None, description="ИНН управляющей компании (специализированной организации кластера)")
    site_name: Text = Field(description="название площадки (кластера), как в заявке")
    input_hash: str = Field(description="хеш заявки (SHA-256), по которой вынесены оценки")
    application_id: str | None = Field(None, description="номер заявки в сервисе")
    version: int | None = Field(None, ge=1, le=10**6, description="версия заявки в сервисе")

    @field_validator("input_hash")
    @classmethod
    def _hash(cls, v: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", v):
            raise ValueError("хеш заявки — 64 шестнадцатеричные цифры; его пишет compliance judgements bind")
        return v


class JudgementsFile(Strict):
    """Файл оценок эксперта: вердикты по критериям, которые оценивает человек, и принятые отклонения."""

    regime: Text
    catalog_version: Text = Field(description="версия каталога, по которой выносились оценки")
    application: AssessedApplication | None = Field(None, description="заявка, по которой вынесены оценки")
    assessor: str | None = Field(None, description="эксперт, проводивший оценку: фамилия и инициалы")
    assessor_position: Name | None = Field(None, description="должность эксперта")
    organisation: str | None = Field(None, description="организация, проводившая оценку")
    head: Name | None = Field(None, description="руководитель организации, проводившей оценку: фамилия и инициалы")
    head_position: Name | None = Field(None, description="должность руководителя")
    judgements: list[Judgement] = []
    waivers: list[Waiver] = []


def load_judgements(path) -> JudgementsFile:
    from pathlib import Path
    path = Path(path)
    if not path.is_file():
        raise InputError([Problem("--judgements", f"файл не найден: {path}")])
    data = parse_document(path.read_bytes(), path.name, "--judgements")
    if not isinstance(data, dict):
        raise InputError([Problem("--judgements", "файл оценок должен быть объектом с полями regime, catalog_version, "
                                                  "judgements, waivers")])
    try:
        return JudgementsFile.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(f"judgements:{p.path}", p.message) for p in problems_from(exc)]) from None


# --- which application the judgements belong to ------------------------------------------------------------------
def application_block(app: Application, app_hash: str | None = None, *, application_id: str | None = None,
                      version: int | None = None) -> dict[str, Any]:
    """The `application` section of a judgements file made on this application (the version with `app_hash`)."""
    org = app.management_company or first_specialized_organization(app)
    out: dict[str, Any] = {"inn": org.inn if org else None, "site_name": app.site_name,
                           "input_hash": app_hash or input_hash(app)}
    if application_id:
        out["application_id"] = application_id
    if version:
        out["version"] = version
    return out


MISMATCH_HEAD = {"unnamed": "Оценки эксперта могут относиться к другой заявке",
                 "application": "Оценки эксперта вынесены по другой заявке",
                 "version": "Оценки эксперта вынесены по другой редакции заявки"}


@dataclass(frozen=True)
class Mismatch:
    """How a judgements file differs from the application it is applied to: it names none (unnamed), another
    site or INN (application), or an earlier or later version of this one (version)."""
    kind: Literal["unnamed", "application", "version"]
    differences: list[str]

    def text(self) -> str:
        return f"{MISMATCH_HEAD[self.kind]}: {'; '.join(self.differences)}"


def mismatch(jf: JudgementsFile, app: Application, app_hash: str | None = None) -> Mismatch | None:
    """None when the file names this application version (INN, site, input hash)."""
    return differences(jf.application, application_block(app, app_hash))


def differences(named: AssessedApplication | None, own: dict[str, Any]) -> Mismatch | None:
    """How the application a judgements file names differs from `own` (an `application_block`); None if it does not."""
    if named is None:
        return Mismatch("unnamed", ["в файле оценок не указано, по какой заявке они вынесены (ИНН, площадка, "
                                    "хеш заявки)"])
    out = []
    if named.inn != own["inn"]:
        out.append(f"ИНН: в оценках — {named.inn or 'не указан'}, в заявке — {own['inn'] or 'не указан'}")
    if named.site_name.strip() != own["site_name"].strip():
        out.append(f"площадка: в оценках — «{named.site_name}», в заявке — «{own['site_name']}»")
    if out:
        return Mismatch("application", out)
    if named.input_hash != own["input_hash"]:
        version = f" (версия {named.version})" if named.version else ""
        return Mismatch("version", [f"заявка изменена после оценки: оценки вынесены по редакции "
                                    f"{named.input_hash[:12]}{version}, проверяется редакция {own['input_hash'][:12]}"])
    return None


@dataclass(frozen=True)
class Bound:
    """Judgements checked against the application they are applied to. `mismatch` — the statement for the report's
    first page when they were made for another application or version and applied by an explicit override."""
    file: JudgementsFile
    mismatch: str | None = None

    @property
    def regime(self) -> str:
        return self.file.regime


def bind(jf: JudgementsFile | Bound, app: Application, *, override: bool = False, app_hash: str | None = None,
         where: str = "judgements.application", how_to_override: str = "bind(…, override=True)") -> Bound:
    """The judgements for this application: refused (InputError) when the file names another application or version,
    or none, unless `override` — then the report states it. `app_hash` — the input hash of the application when the
    caller knows it as stored (the service); by default it is computed from `app`."""
    if isinstance(jf, Bound):
        return jf
    found = mismatch(jf, app, app_hash)
    if found is None:
        return Bound(jf)
    if override:
        return Bound(jf, f"{found.text()}. Применены по явному указанию пользователя, без подтверждения, что они "
                         "относятся к этой заявке.")
    raise InputError([Problem(where, f"{found.text()}. Проверьте, тот ли это файл оценок. Если эксперт пересмотрел "
                                     "оценки для этой заявки, привяжите их к ней: compliance judgements bind ЗАЯВКА "
                                     f"ФАЙЛ_ОЦЕНОК. Применить их как есть можно только явно ({how_to_override}) — "
                                     "отчёт скажет об этом на первой странице.")])


def bind_file(app: Application, path, output=None, force: bool = False):
    """`compliance judgements bind`: write into the judgements file (or into `output`) the application section of
    this application — after the expert has reviewed the judgements on it. Refuses a file that names another site or
    INN unless `force`, and judgements the application does not accept (unknown criteria, a verdict contradicting a
    computed one…). Returns the report of the application with the judgements (its contradictions are worth a look)
    and the section written. YAML is rewritten keeping the expert's comments and layout."""
    import io
    import json
    from pathlib import Path

    from .evaluate import evaluate

    path = Path(path)
    jf = load_judgements(path)
    found = mismatch(jf, app)
    if found is not None and found.kind == "application" and not force:
        raise InputError([Problem("--judgements", f"{found.text()}. Привязать эти оценки к этой заявке можно только "
                                                  "явно, с --force: эксперт должен был пересмотреть их для неё")])
    block = application_block(app)
    bound = jf.model_copy(update={"application": AssessedApplication.model_validate(block)})
    report = evaluate(app, jf.regime, judgements=Bound(bound))
    target = Path(output) if output else path
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
        data = _with_application(data, block)
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        from ruamel.yaml import YAML
        from ruamel.yaml.comments import CommentedMap
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        yaml_rt = YAML()
        yaml_rt.preserve_quotes = True
        yaml_rt.width = 4096  # never re-wrap the expert's lines
        yaml_rt.indent(mapping=2, sequence=4, offset=2)
        data = yaml_rt.load(path.read_text(encoding="utf-8-sig"))
        section = CommentedMap((k, DoubleQuotedScalarString(v) if k in ("inn", "input_hash") and v else v)
                               for k, v in block.items())
        data = _with_application(data, section)
        buffer = io.StringIO()
        yaml_rt.dump(data, buffer)
        text = buffer.getvalue()
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return report, block


def _with_application(data, section):
    """The file's mapping with its `application` section replaced, or inserted after `catalog_version`."""
    keys = [k for k in data if k != "application"]
    at = keys.index("catalog_version") + 1 if "catalog_version" in keys else len(keys)
    if hasattr(data, "insert"):  # YAML read keeping comments: edit in place
        if "application" in data:
            data["application"] = section
        else:
            data.insert(at, "application", section)
        return data
    merged = {**data, "application": section}
    return {k: merged[k] for k in keys[:at] + ["application"] + keys[at:]}


# How the command line and the service name the options a refusal points to.
CHANNELS = {
    "cli": {"where": "--judgements", "how_to_override": "--force-judgements", "regime_option": "--regime",
            "judgements_path": "--judgements"},
    "api": {"where": "judgements.application", "how_to_override": "«judgements_override»: true в запросе",
            "regime_option": "regime", "judgements_path": "judgements.regime"},
}


def for_check(jf: JudgementsFile | None, app: Application, regime: str | None, channel: Literal["cli", "api"], *,
              override: bool = False, app_hash: str | None = None) -> tuple[Bound | None, str | None, str | None]:
    """A check's judgements bound to its application, the regime to check and a note for the report when the file
    chose it (`bind`, `choose_regime`); the problems of both refused together (InputError)."""
    if jf is None:
        return None, regime, None
    names = CHANNELS[channel]
    problems: list[Problem] = []
    bound, note = None, None
    try:
        bound = bind(jf, app, override=override, app_hash=app_hash, where=names["where"],
                     how_to_override=names["how_to_override"])
    except InputError as exc:
        problems += exc.problems
    try:
        regime, note = choose_regime(app, regime, jf, names["regime_option"], names["judgements_path"])
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    return bound, regime, note


def choose_regime(app: Application, regime: str | None, jf: JudgementsFile | Bound | None,
                  regime_option: str = "regime", judgements_path: str = "judgements.regime") -> tuple[str | None, str | None]:
    """The regime to check with a judgements file, and a note for the report when the file chose it.

    A named regime must be the file's (with `all`, the matrix must include it). With no regime named, the
    application's own regimes are checked; the file's regime is chosen instead only when its catalog `accompanies`
    one of them (GOST R 56425 on a technopark's data) and the application has the sections it needs."""
    if jf is None:
        return regime, None
    from .catalog import available_regimes, load_catalog
    from .eligibility import regimes_for

    code = jf.regime
    if code not in available_regimes():
        raise InputError([Problem(judgements_path, f"файл оценок составлен для режима «{code}», а каталога для него "
                                                   f"нет; доступны: {', '.join(available_regimes())}")])
    decree = load_catalog(code).decree
    if regime == "all":
        chosen, skipped = regimes_for(app)
        if code not in chosen:
            reason = next((s.reason for s in skipped if s.regime == code), "")
            raise InputError([Problem(judgements_path, f"оценки эксперта составлены для режима «{regime_name(code)}», "
                                                       f"а он в матрицу не входит: {reason}")])
        return regime, None
    if regime is not None:
        if regime != code:
            raise InputError([Problem(judgements_path, f"файл оценок составлен для режима «{regime_name(code)}», а "
                                                       f"проверяется «{regime_name(regime)}»")])
        return regime, None
    own = list(app.regimes)
    if code in own:
        return None, None
    natural = [r for r in own if r in decree.accompanies]
    if natural and code in regimes_for(app, [code])[0]:
        titles = ", ".join(f"«{regime_name(r)}»" for r in natural if r in available_regimes())
        return code, (f"Режим «{regime_name(code)}» выбран по файлу оценок эксперта: в заявке указан режим {titles}, и "
                      "для такой площадки эта оценка проводится по её же данным.")
    listed = ", ".join(f"«{regime_name(r)}»" for r in own) or "не указаны"
    raise InputError([Problem(judgements_path, f"файл оценок составлен для режима «{regime_name(code)}», а в заявке "
                                               f"указаны режимы: {listed}. Такая оценка для этой заявки не "
                                               f"подразумевается; чтобы всё же проверить заявку по этому режиму, "
                                               f"укажите его явно: {regime_option} {code}")])


def apply(findings: list[Finding], jf: JudgementsFile, catalog: Catalog, as_of: date) -> tuple[list[Finding], list[str]]:
    """Findings with the judgements and waivers applied, and notes for the report. Refuses (InputError) a file for
    another regime, unknown IDs, repeated IDs, and verdicts that contradict what the product computed."""
    problems: list[Problem] = []
    notes: list[str] = []
    if jf.regime != catalog.regime:
        raise InputError([Problem("judgements:regime", f"файл оценок составлен для режима «{regime_name(jf.regime)}», а "
                                                       f"проверяется «{regime_name(catalog.regime)}»")])
    by_id = {f.requirement_id: f for f in findings}
    outdated = jf.catalog_version != catalog.decree.catalog_version
    if outdated:
        notes.append(f"Оценки эксперта вынесены по версии каталога {jf.catalog_version}, а проверка — по версии "
                     f"{catalog.decree.catalog_version}: пересмотрите оценки, помеченные «устарела».")
    seen: set[str] = set()
    for i, j in enumerate(jf.judgements):
        where = f"judgements:judgements[{i}]"
        f = by_id.get(j.requirement_id)
        if f is None:
            problems.append(Problem(f"{where}.requirement_id", f"в каталоге {catalog.regime} нет критерия «{j.requirement_id}»"))
            continue
        if j.requirement_id in seen:
            problems.append(Problem(f"{where}.requirement_id", f"по критерию {j.requirement_id} уже есть оценка"))
            continue
        seen.add(j.requirement_id)
        if j.date and j.date > settings.today():
            problems.append(Problem(f"{where}.date", f"дата оценки {day(j.date)} ещё не наступила"))
        if f.status in ("met", "not_met", "not_applicable") and j.verdict != f.status:
            problems.append(Problem(f"{where}.verdict", f"{j.requirement_id} проверяется автоматически: вычислено "
                                    f"«{STATUS_RU[f.status]}», а в оценке — «{STATUS_RU[j.verdict]}». Исправьте данные "
                                    "заявки или норматив в каталоге, а не вердикт"))
            continue
        if f.status in ("informational", "error"):
            problems.append(Problem(f"{where}.requirement_id", f"{j.requirement_id}: статус «{STATUS_RU[f.status]}» "
                                                               "оценке эксперта не подлежит"))
            continue
    waivers: dict[str, Waiver] = {}
    for i, w in enumerate(jf.waivers):
        if w.requirement_id not in by_id:
            problems.append(Problem(f"judgements:waivers[{i}].requirement_id",
                                    f"в каталоге {catalog.regime} нет критерия «{w.requirement_id}»"))
        elif w.requirement_id in waivers:
            problems.append(Problem(f"judgements:waivers[{i}].requirement_id",
                                    f"по критерию {w.requirement_id} уже принято отклонение"))
        else:
            waivers[w.requirement_id] = w
    if problems:
        raise InputError(problems)

    judged = {j.requirement_id: j for j in jf.judgements}
    out = []
    for f in findings:
        j = judged.get(f.requirement_id)
        if j is not None:
            record = JudgementRecord(verdict=j.verdict, comment=j.comment, evidence=j.evidence,
                                     assessor=j.assessor or jf.assessor, date=j.date, catalog_version=jf.catalog_version,
                                     outdated=outdated, confirms_computed=f.status == j.verdict)
            if f.status != j.verdict:
                f = f.model_copy(update={"status": j.verdict, "judgement": record,
                                         "explanation": f"Оценка эксперта: {STATUS_RU[j.verdict]}. {j.comment}"
                                                        + (f" Основание: {j.evidence}." if j.evidence else "")
                                                        + f" (До оценки: {f.explanation})"})
            else:
                f = f.model_copy(update={"judgement": record})
        w = waivers.get(f.requirement_id)
        if w is not None:
            active = w.expires >= as_of
            record = WaiverRecord(justification=w.justification, expires=w.expires, approved_by=w.approved_by,
                                  date=w.date, active=active and f.status == "not_met")
            if f.status != "not_met":
                notes.append(f"Отклонение по {f.requirement_id} не применено: критерий в статусе «{STATUS_RU[f.status]}».")
                f = f.model_copy(update={"waiver": record})
            elif not active:
                notes.append(f"Отклонение по {f.requirement_id} истекло {day(w.expires)} и больше не действует.")
                f = f.model_copy(update={"waiver": record})
            else:
                f = f.model_copy(update={"status": "waived", "waiver": record,
                                         "explanation": f"Отклонение принято до {day(w.expires)}: {w.justification}. "
                                                        f"(По проверке: {f.explanation})"})
        out.append(f)
    return out, notes


def score(findings: list[Finding], catalog: Catalog) -> AssessmentResult | None:
    """Per block and overall: the share of applicable mandatory criteria met; recommended separately; conclusion."""
    spec = catalog.decree.assessment
    if spec is None:
        return None
    blocks: dict[str, list[Finding]] = {}
    for f in findings:
        blocks.setdefault(f.block, []).append(f)

    def tally(items: list[Finding], title: str, block: str) -> BlockScore:
        mandatory = [f for f in items if f.severity in spec.mandatory]
        recommended = [f for f in items if f.severity in spec.recommended]
        applicable = [f for f in mandatory if f.status != "not_applicable"]
        met = sum(1 for f in applicable if f.status == "met")
        return BlockScore(block=block, title=title, mandatory_total=len(mandatory), mandatory_applicable=len(applicable),
                          mandatory_met=met,
                          share_pct=float(round_half_up(100.0 * met / len(applicable), 2)) if applicable else None,
                          mandatory_waived=sum(1 for f in applicable if f.status == "waived"),
                          recommended_total=len(recommended),
                          recommended_met=sum(1 for f in recommended if f.status == "met"),
                          recommended_not_met=sum(1 for f in recommended if f.status == "not_met"))

    scores = [tally(items, catalog.decree.blocks.get(b, b), b) for b, items in blocks.items()]
    overall = tally(findings, "Итого", "")
    mandatory = [f for f in findings if f.severity in spec.mandatory and f.status != "not_applicable"]
    recommended = [f for f in findings if f.severity in spec.recommended]
    gaps = [f for f in mandatory if f.status == "not_met"]
    pending = [f for f in mandatory if f.status in ("insufficient_data", "manual_review", "error")]
    remarks = [f for f in recommended if f.status == "not_met"] + [f for f in findings if f.status == "waived"]
    if gaps:
        code = "does_not_conform"
    elif pending:
        code = "incomplete"
    elif remarks:
        code = "conforms_with_remarks"
    else:
        code = "conforms"

    def line(f: Finding) -> str:
        what = f.shortfall.text if f.shortfall else STATUS_RU[f.status]
        todo = f" Что сделать: {f.remedy}" if f.remedy and f.status == "not_met" else ""
        return f"{f.requirement_id} {f.title}: {what}.{todo}"

    return AssessmentResult(
        blocks=scores, overall=overall, conclusion=code, conclusion_text=spec.conclusions[code], method=spec.method,
        gaps=[line(f) for f in gaps], pending=[f"{f.requirement_id} {f.title}: {STATUS_RU[f.status]}" for f in pending],
        remarks=[line(f) if f.status != "waived" else f"{f.requirement_id} {f.title}: отклонение принято до "
                 f"{day(f.waiver.expires)} — {f.waiver.justification}" for f in remarks],
        not_judged_recommended=[f"{f.requirement_id} {f.title}" for f in recommended
                                if f.status in ("manual_review", "insufficient_data")])


# --- verdicts that contradict a computed fact ----------------------------------------------------------------------
_COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq,
            "!=": operator.ne, "in": lambda a, b: a in b}


def contradictions(findings: list[Finding], catalog: Catalog, facts: dict[str, Any], as_of: date) -> list[Contradiction]:
    """Each assessor's verdict that a computed fact contradicts, as the catalog declares it (the `consistency` of a
    manual criterion's rule): the verdict, the fact, its value and the condition that makes them disagree."""
    params = catalog.params_at(as_of)
    out = []
    for f in findings:
        rule = catalog.rules.get(f.requirement_id)
        if f.judgement is None or rule is None:
            continue
        for c in rule.consistency:
            if c.verdict != f.judgement.verdict:
                continue
            fact = facts.get(c.fact)
            norm = (params[c.param].value if params.get(c.param) else None) if c.param else c.value
            if fact is None or fact.value is None or norm is None or not _COMPARE[c.op](fact.value, norm):
                continue
            value_text = fmt_value(fact.value, fact.unit)
            condition = norm_phrase(c.op, norm, fact.unit)
            verdict = STATUS_RU[c.verdict]
            out.append(Contradiction(
                requirement_id=f.requirement_id, title=f.title, verdict=c.verdict, verdict_text=verdict, fact=c.fact,
                fact_label=fact.label, value=fact.value, value_text=value_text, condition=condition, reason=c.reason,
                text=f"{f.requirement_id} {f.title}: оценка эксперта «{verdict}» противоречит вычисленному факту "
                     f"«{fact.label}» — {value_text} ({condition}): {c.reason.rstrip('.')}. Пересмотрите оценку или "
                     "данные заявки."))
    return out
