"""Re-check after a catalog change (issue 17 §2), as the job kind «recheck» (compliance/jobs.py).

Nothing is re-checked silently: `catalog_changes` tells the pages and the API how many stored applications were last
checked under a catalog version other than the current one; a user (or `compliance recheck`) starts the job. Each item
is one application: its latest version is checked under the current catalogs, with the regime, the as-of date and —
for the same version — the expert's judgements of its previous check (so the difference is the catalog's, not the
date's), stored as a normal check (in the same transaction as the job's checkpoint) and compared with that previous
check: the overall verdicts before and after and, per regime, the requirements whose status changed. The job's result
lists the applications whose verdict changed; «каталог обновлён: N заявок изменили итог»."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from compliance.catalog import available_regimes, load_catalog
from compliance.formatting import plural
from compliance.jobs import Job, JobContext, JobKind, register
from compliance.storage import ApplicationVersion, Organisation, StoredApplication, StoredCheck, keep_snapshot

from . import checking, workers

KIND = "recheck"
TITLE = "повторная проверка заявок по обновлённому каталогу"


def current_catalogs() -> dict[str, dict[str, str]]:
    """regime -> {"version", "hash"} of the catalogs on disk now."""
    return checking.current_catalogs(available_regimes())


def _latest_catalogs(s: Session, org_id: int | None) -> dict[str, dict[str, dict[str, str]]]:
    """application id -> the catalogs of its newest stored check (of the organisation, or of all with None); only
    these columns are read, not the reports."""
    query = select(StoredCheck.application_id, StoredCheck.catalogs).order_by(StoredCheck.created_at, StoredCheck.id)
    if org_id is not None:
        query = query.where(StoredCheck.organisation_id == org_id)
    return {app_id: used for app_id, used in s.execute(query)}


def outdated(catalogs: dict[str, dict[str, str]], used: dict[str, dict[str, str]]) -> bool:
    """A check made under `used` (regime -> {"version", "hash"}) is outdated when a regime of it has another catalog
    now (a regime whose catalog is gone is not counted)."""
    return any(code in catalogs and catalogs[code]["hash"] != c["hash"] for code, c in used.items())


def applications_in_scope(s: Session, org_id: int | None) -> dict[str, int]:
    """The stored applications a job over many covers — the organisation's, or every organisation's (None) — in the
    order they were created: id -> its latest version now."""
    query = select(StoredApplication.id, StoredApplication.current_version).order_by(StoredApplication.created_at,
                                                                                     StoredApplication.id)
    if org_id is not None:
        query = query.where(StoredApplication.organisation_id == org_id)
    return dict(s.execute(query).all())


def changed_message(n: int) -> str:
    """«каталог обновлён: 3 заявки изменили итог» (the verb agrees with the number)."""
    verb = "изменила" if n % 10 == 1 and n % 100 != 11 else "изменили"
    return f"каталог обновлён: {plural(n, 'заявка', 'заявки', 'заявок')} {verb} итог"


def outdated_message(n: int) -> str:
    checked = "проверена" if n % 10 == 1 and n % 100 != 11 else "проверены"
    return (f"каталог обновлён: {plural(n, 'заявка', 'заявки', 'заявок')} {checked} по прежней версии каталога — "
            "их итог мог измениться; проверьте их заново")


def catalog_changes(s: Session, org_id: int | None) -> dict[str, Any]:
    """What the banner says: how many applications' latest check is outdated, and the last finished re-check under the
    current catalogs (its job and the number of applications whose verdict it changed)."""
    catalogs = current_catalogs()
    stale = sum(1 for used in _latest_catalogs(s, org_id).values() if outdated(catalogs, used))
    last = s.scalar(select(Job).where(Job.kind == KIND, Job.status == "done", Job.organisation_id == org_id)
                    .order_by(Job.finished_at.desc()).limit(1)) if org_id is not None else None
    if last is not None and (last.parameters.get("catalogs") != catalogs or not last.result.get("catalog_changed")):
        last = None
    message = outdated_message(stale) if stale else (changed_message(last.result["changed_count"]) if last else None)
    return {"outdated": stale, "catalogs": catalogs, "last": last,
            "changed": last.result["changed_count"] if last else None, "message": message}


# --- the job kind -------------------------------------------------------------------------------------------------
def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Per regime whose verdict or findings changed: the verdicts and the requirements whose status changed."""
    out = []
    for entry in checking.compare(before, after):
        changes = [{"requirement_id": c["requirement_id"], "title": c["title"], "before": c["before"],
                    "after": c["after"]} for c in entry["changed"] if c["before"] != c["after"]]
        if changes or entry["added"] or entry["removed"] or entry["verdict_before"] != entry["verdict_after"]:
            out.append({"regime": entry["regime"], "verdict_before": entry["verdict_before"],
                        "verdict_after": entry["verdict_after"], "changes": changes, "added": entry["added"],
                        "removed": entry["removed"]})
    return out


def process(ctx: JobContext, s: Session, app_id: str) -> dict[str, Any]:
    from .service import Caller, store_check, version_of

    row = s.get(StoredApplication, app_id)
    if row is None or (ctx.parameters.get("scope") != "all" and row.organisation_id != ctx.organisation_id):
        return {"application_id": app_id, "site_name": "", "error": "заявка не найдена (удалена)"}
    org = s.get(Organisation, row.organisation_id)
    head = {"application_id": row.id, "site_name": row.site_name, "organisation": org.name if org else ""}
    ver = version_of(s, row.id, row.current_version)
    prev = s.scalar(select(StoredCheck).where(StoredCheck.application_id == row.id)
                    .order_by(StoredCheck.created_at.desc(), StoredCheck.id.desc()).limit(1))
    regime = prev.requested_regime if prev else None
    as_of: date | None = prev.as_of if prev else None
    judgements = prev.judgements if prev and prev.application_version == ver.version else None
    out = workers.evaluate_json(ver.body, regime, as_of.isoformat() if as_of else None, judgements, True)
    if isinstance(out, dict):
        problems = "; ".join(p["message"] for p in out["problems"][:3])
        return {**head, "version": ver.version, "error": f"заявка не проверена: ошибки во входных данных ({problems})"}
    kept = sessionmaker(bind=s.get_bind())
    for code, used in out.facts["catalogs"].items():
        current = load_catalog(code)
        if current.content_hash == used["hash"]:
            keep_snapshot(kept, current)
    who = Caller.model_construct(org_id=row.organisation_id, token_id=ctx.token_id, admin=False)  # token: None from the CLI
    stored = store_check(s, who, row, ver, regime,
                         judgements, out)
    after = {"check_id": stored.id, "verdicts": stored.verdicts, "catalogs": stored.catalogs}
    if prev is None:
        return {**head, "version": ver.version, "before": None, "after": after, "verdict_changed": False,
                "regimes": []}
    return {**head, "version": ver.version,
            "before": {"check_id": prev.id, "verdicts": prev.verdicts, "catalogs": prev.catalogs,
                       "version": prev.application_version},
            "after": after, "verdict_changed": prev.verdicts != stored.verdicts,
            "regimes": _changes(prev.result, out.result())}


def finish(ctx: JobContext, s: Session, results: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    items = [r for _, r in results]
    changed = [r for r in items if r.get("verdict_changed")]
    catalog_changed = any(r.get("before") and r["before"]["catalogs"] != r["after"]["catalogs"]
                          for r in items if "error" not in r)
    message = changed_message(len(changed)) if catalog_changed else \
        f"каталог с предыдущих проверок не менялся; изменили итог: {plural(len(changed), 'заявка', 'заявки', 'заявок')}"
    return {"catalogs": ctx.parameters.get("catalogs", {}), "total": len(items),
            "changed_count": len(changed), "error_count": sum(1 for r in items if "error" in r),
            "first_checks": sum(1 for r in items if "error" not in r and r.get("before") is None),
            "catalog_changed": catalog_changed, "message": message, "items": items}


register(JobKind(name=KIND, title=TITLE, process=process, finish=finish))


def start(s: Session, org_id: int | None, token_id: int | None, scope: str) -> Job:
    """A queued re-check job over the organisation's applications (`scope` "own") or everyone's ("all"); committed."""
    from compliance.jobs import create_job

    items = list(applications_in_scope(s, org_id if scope == "own" else None))
    job = create_job(s, org_id, token_id, KIND, {"scope": scope, "catalogs": current_catalogs()}, items)
    s.commit()
    return job
