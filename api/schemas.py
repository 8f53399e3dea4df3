"""Request and response models of the service; their descriptions are the Russian OpenAPI documentation."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from compliance.models import AS_OF_MAX, AS_OF_MIN, check_as_of

# The range of check_as_of as a pattern, so that the OpenAPI document refuses what the service refuses (2000 and the
# years divisible by 4 up to 2096 are leap years, 2100 is not); tests/test_api_schema.py compares it with check_as_of.
AS_OF_PATTERN = (r"^(?:(?:20[0-9][0-9]|2100)-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
                 r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
                 r"|20(?:[02468][048]|[13579][26])-02-29)$")
AsOf = Annotated[date, AfterValidator(check_as_of), Field(json_schema_extra={"pattern": AS_OF_PATTERN})]
AS_OF_RANGE = f"от {AS_OF_MIN:%d.%m.%Y} до {AS_OF_MAX:%d.%m.%Y}"


class Health(BaseModel):
    status: str = Field(description="«ok», если сервис и база данных доступны")
    version: str = Field(description="версия программы")


class RegimeSummary(BaseModel):
    code: str = Field(description="код режима")
    title: str = Field(description="название режима")
    act: str = Field(description="акт, устанавливающий требования")
    catalog_version: str = Field(description="версия каталога требований")
    content_hash: str = Field(description="контрольная сумма файлов каталога (SHA-256)")
    requirements: int = Field(description="число требований")


class RequirementOut(BaseModel):
    id: str = Field(description="ID требования")
    title: str = Field(description="краткое название")
    clause: str = Field(description="пункт акта")
    block: str = Field(description="раздел требований")
    kind: str = Field(description="вид проверки: automated, manual, informational, document")
    kind_text: str = Field(description="вид проверки по-русски")
    confidence: str = Field(description="достоверность норматива: T, S, A, M, U")
    confidence_text: str = Field(description="достоверность по-русски")
    needs_confirmation: bool = Field(description="норматив требует сверки с официальным текстом")
    severity: str | None = Field(None, description="критичность: blocking, major, minor, info")
    severity_text: str | None = Field(None, description="критичность по-русски")


class RegimeCatalog(RegimeSummary):
    items: list[RequirementOut] = Field(description="требования каталога")


class ApplicationSummary(BaseModel):
    id: str = Field(description="идентификатор заявки")
    site_name: str = Field(description="название площадки")
    current_version: int = Field(description="номер последней версии")
    input_hash: str = Field(description="SHA-256 последней версии заявки")
    regimes: list[str] = Field(description="режимы, указанные в заявке")
    created_at: datetime
    updated_at: datetime


class ApplicationOut(ApplicationSummary):
    version: int = Field(description="номер показанной версии")
    body: dict[str, Any] = Field(description="заявка (проверенная), JSON")


class VersionOut(BaseModel):
    version: int = Field(description="номер версии (с 1)")
    input_hash: str = Field(description="SHA-256 заявки этой версии")
    source: str = Field(description="откуда получена: json или имя загруженного файла")
    created_at: datetime


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regime: str | None = Field(None, max_length=40, description="код режима (ip794, itp1863, …) или all — матрица по "
                                                                "всем подходящим режимам; по умолчанию — режимы из заявки")
    as_of: AsOf | None = Field(None, description=f"дата оценки ГГГГ-ММ-ДД ({AS_OF_RANGE}); по умолчанию — дата "
                                                 "подачи заявки")
    judgements: dict[str, Any] | None = Field(None, description="оценки эксперта и принятые отклонения — то же, что "
                                                                "файл --judgements (regime, catalog_version, application, "
                                                                "judgements, waivers); раздел application должен "
                                                                "называть эту версию заявки (ИНН, площадка, хеш заявки)")
    version: int | None = Field(None, ge=1, le=10**6, description="версия заявки; по умолчанию — последняя")
    judgements_override: bool = Field(False, description="применить оценки эксперта, вынесенные по другой заявке "
                                                         "или редакции заявки (раздел application файла оценок не "
                                                         "совпадает с этой версией); отчёт скажет об этом на первой "
                                                         "странице")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, description="идентификаторы заявок вашей организации")
    regime: str | None = Field(None, max_length=40, description="код режима или all; по умолчанию — режимы из заявок")
    as_of: AsOf | None = Field(None, description=f"дата оценки для всех заявок ({AS_OF_RANGE}); по умолчанию — их "
                                                 "даты подачи")


class CheckSummary(BaseModel):
    id: str = Field(description="идентификатор проверки")
    application_id: str
    application_version: int = Field(description="версия заявки, которая проверялась")
    evaluation_id: str = Field(description="идентификатор оценки (сеанса движка правил)")
    regimes: list[str] = Field(description="режимы, по которым выполнена оценка")
    verdicts: dict[str, str] = Field(description="итог по каждому режиму: conforms, pending_review (автоматические "
                                                 "проверки пройдены, требования ждут оценки эксперта), "
                                                 "does_not_conform, incomplete")
    catalog_version: str = Field(description="версия каталога требований")
    catalog_hash: str = Field(description="контрольная сумма каталога (для нескольких режимов — общая)")
    catalogs: dict[str, dict[str, str]] = Field(description="версия и контрольная сумма каталога каждого режима")
    input_hash: str = Field(description="SHA-256 проверенной заявки")
    as_of: date = Field(description="дата оценки")
    replay_of: str | None = Field(None, description="проверка, повтором которой является эта")
    replay_catalog: str | None = Field(None, description="для повтора — по какому каталогу требований: stored — по "
                                                         "каталогу исходной проверки, current — по текущему")
    created_at: datetime


class CheckOut(CheckSummary):
    judgements: dict[str, Any] | None = Field(None, description="оценки эксперта, переданные с проверкой")
    reports: list[dict[str, Any]] = Field(description="отчёты (как `compliance check --format json`)")
    matrix: list[dict[str, Any]] | None = Field(None, description="матрица режимов, если оценено несколько")
    skipped: list[dict[str, Any]] = Field([], description="режимы, которые не оценивались, и почему")


class RegimeComparison(BaseModel):
    regime: str
    catalog_before: dict[str, str] | None = Field(None, description="каталог первой проверки")
    catalog_after: dict[str, str] | None = Field(None, description="каталог второй проверки")
    verdict_before: str | None = None
    verdict_after: str | None = None
    same_findings: bool = Field(description="находки совпадают полностью")
    changed: list[dict[str, Any]] = Field(description="изменившиеся находки: статус, факт, разрыв до и после")
    added: list[str] = Field(description="требования, которых не было в первой проверке")
    removed: list[str] = Field(description="требования, которых нет во второй проверке")


class Comparison(BaseModel):
    before: str = Field(description="первая проверка")
    after: str = Field(description="вторая проверка")
    same: bool = Field(description="находки по всем режимам совпадают")
    regimes: list[RegimeComparison]


class Replay(Comparison):
    catalog: str = Field(description="по какому каталогу выполнен повтор: stored — по сохранённому каталогу исходной "
                                     "проверки (те же заявка, правила и дата — ожидается тот же результат), current — "
                                     "по текущему каталогу (что изменил бы новый каталог)")
    catalog_changed: bool = Field(description="каталог требований изменился с момента исходной проверки")
    check: CheckSummary = Field(description="новая проверка (сохранена)")


class BatchItemError(BaseModel):
    application_id: str
    status: int
    detail: str
    problems: list[dict[str, str]] = []


class BatchOut(BaseModel):
    checks: list[CheckSummary] = Field(description="выполненные проверки")
    errors: list[BatchItemError] = Field(description="заявки, которые проверить не удалось, с причиной")


class AuditOut(BaseModel):
    at: datetime
    token_id: int | None
    action: str
    object_type: str
    object_id: str | None
    detail: str | None
