"""Service settings (environment variables with the prefix COMPLIANCE_, or a .env file)."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COMPLIANCE_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///./compliance.db",
                              description="адрес базы данных SQLAlchemy: SQLite-файл или postgresql+psycopg://…")
    max_body_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="предел размера тела запроса и загружаемого файла")
    upload_memory_mb: int = Field(512, ge=64, le=65536, description="предел памяти на разбор одного загруженного файла "
                                  "в рабочем процессе, МБ (режим process): файл, которому его не хватило, отклоняется "
                                  "с ответом 413, а процесс сервиса его не разбирает вовсе")
    max_batch: int = Field(200, ge=1, description="наибольшее число заявок в пакетной проверке")
    migrate_on_start: bool = Field(True, description="применять миграции Alembic при запуске")
    evaluation_mode: Literal["process", "thread"] = Field(
        "process", description="где идут проверки: process — в рабочих процессах (сбой движка правил не останавливает "
                               "сервис), thread — в потоке процесса сервиса (быстрее запуск; для тестов: сбой "
                               "движка остановит сервис, предел времени не действует; при запуске — предупреждение "
                               "в журнале)")
    max_workers: int = Field(1, ge=1, le=64, description="рабочих процессов проверки (и одновременных проверок)")
    evaluation_timeout: float = Field(
        60.0, gt=0, le=3600,
        description="предел времени одной проверки в рабочем процессе, секунд (вместе с подготовкой нового процесса; "
                    "очередь к процессам не в счёт): не уложилась — ответ 503, рабочие процессы останавливаются и "
                    "создаются заново; в режиме thread не действует (поток остановить нельзя)")
    trusted_origins: list[str] = Field(
        [], description="адреса, с которых принимаются формы веб-страниц, кроме адреса из заголовка Host "
                        "(например [\"https://compliance.example\"] за прокси, который меняет Host)")
    organisation_file: Path | None = Field(
        None, description="файл реквизитов организации для документов Word командной строки (наименование, адрес, "
                          "логотип, подписант, префикс исходящего номера); его заменяет параметр --organisation")
    today: date | None = Field(None, description="«сегодняшняя» дата для проверки дат заявки (дата подачи и даты "
                                                 "документов не позже её); по умолчанию — системная дата")
    soffice: str | None = Field(None, description="программа LibreOffice для отчётов PDF (путь или имя; по умолчанию "
                                                  "soffice или libreoffice из PATH)")
    pdf_timeout: float = Field(120.0, gt=0, le=3600, description="предел времени одного преобразования в PDF, секунд")
    jobs_broker: str | None = Field(
        None, description="очередь фоновых заданий: sqlite:///ФАЙЛ (по умолчанию — файл рядом с базой SQLite, "
                          "compliance.jobs.db, без отдельного сервера) или redis://АДРЕС/0 — общая очередь нескольких "
                          "машин с общей базой PostgreSQL")
    jobs_embedded: bool = Field(True, description="сервис сам выполняет задания (в отдельном процессе или, в режиме "
                                                  "thread, в потоке); false — их выполняют только команды "
                                                  "compliance worker")
    jobs_stale_after: float = Field(
        120.0, gt=0, le=86400, description="через сколько секунд без вестей от обработчика на другой машине его "
                                           "задание считается брошенным и продолжается другим обработчиком")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def today() -> date:
    """Today's date for every check of input dates (COMPLIANCE_TODAY pins it, e.g. in tests)."""
    return get_settings().today or date.today()
