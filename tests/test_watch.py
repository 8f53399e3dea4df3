"""The deadline watch (compliance/watch.py, `compliance watch`, the «Сроки» page): dates on and around each boundary,
the periods read from the catalog as of the decision's date, ordering, the calendar parsed back."""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import holidays
import pytest
import yaml
from icalendar import Calendar

from compliance.catalog import load_catalog
from compliance.evaluate import evaluate
from compliance.findings import add_years
from compliance.fingerprint import input_hash
from compliance.judgements import JudgementsFile
from compliance.loading import validate
from compliance.watch import deadlines, order, render_text, to_ics, uid, within
from tests.test_cli_russian import run  # the console entry point in this process, with a non-Russian locale

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "fixtures" / "ip794-operating-conforming.yaml"
AS_OF = date(2026, 12, 6)


def app_with(**changes):
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data.update(changes)
    return validate(data)


def years_at(regime: str, on: date) -> int:
    return load_catalog(regime).rulebook.parameters["decision_validity_years"].at(on).value


def of_kind(items, kind):
    return [d for d in items if d.kind == kind]


def test_decision_period_is_the_rule_in_force_on_the_decision_date():
    old, new = date(2021, 9, 8), date(2021, 9, 9)  # the 2021 revision of 794 takes effect on 09.09.2021
    assert (years_at("ip794", old), years_at("ip794", new)) == (3, 5)
    app = app_with(conformity_decisions=[{"regime": "ip794", "date": "2021-09-08", "number": "1"},
                                         {"regime": "ip794", "date": "2021-09-09", "number": "2"}])
    expiries = of_kind(deadlines(app, AS_OF), "decision_expires")
    assert [d.due for d in expiries] == [date(2024, 9, 8), date(2026, 9, 9)]
    assert [d.days_left for d in expiries] == [(date(2024, 9, 8) - AS_OF).days, (date(2026, 9, 9) - AS_OF).days]
    assert all(d.overdue for d in expiries)
    assert "действует 3 года" in expiries[0].rule and "794-R-3" in expiries[0].rule
    assert "действует 5 лет" in expiries[1].rule and "норма не сверена с текстом акта" in expiries[1].rule
    assert expiries[0].requirements == ["794-R-3"]


def test_leap_day_decision_ends_on_28_february():
    app = app_with(conformity_decisions=[{"regime": "ip794", "date": "2020-02-29"}])
    (d,) = of_kind(deadlines(app, AS_OF), "decision_expires")
    assert d.due == date(2023, 2, 28) == add_years(date(2020, 2, 29), years_at("ip794", date(2020, 2, 29)))


def test_reconfirmation_is_due_the_review_period_in_working_days_before_expiry():
    app = app_with(conformity_decisions=[{"regime": "ip794", "date": "2023-03-01"}])
    items = deadlines(app, AS_OF)
    (exp,) = of_kind(items, "decision_expires")
    (due,) = of_kind(items, "reconfirmation_due")
    assert exp.due == date(2028, 3, 1)
    n = load_catalog("ip794").rulebook.parameters["review_period_working_days"].at(exp.due).value
    ru = holidays.country_holidays("RU")
    between = [due.due + timedelta(days=i) for i in range((exp.due - due.due).days)]
    assert sum(ru.is_working_day(x) for x in between) == n and ru.is_working_day(due.due)
    assert due.due < exp.due and f"{n} рабочих дней" in due.rule


def test_regime_without_review_period_is_due_by_expiry_and_says_so():
    app = validate({**yaml.safe_load((ROOT / "fixtures" / "htp1381-operating.yaml").read_text(encoding="utf-8")),
                    "conformity_decisions": [{"regime": "htp1381", "date": "2024-01-15"}]})
    items = deadlines(app, AS_OF)
    (exp,) = of_kind(items, "decision_expires")
    (due,) = of_kind(items, "reconfirmation_due")
    assert exp.due == due.due == date(2029, 1, 15)
    assert "срок рассмотрения заявки в каталоге не установлен" in due.rule


def test_notice_deadline_unknown_is_said_plainly_and_only_after_registration():
    registered = app_with(conformity_decisions=[{"regime": "ip794", "date": "2023-03-01", "in_register": True}])
    (n,) = of_kind(deadlines(registered, AS_OF), "notice_due")
    assert n.due is None and n.days_left is None and not n.overdue
    assert n.requirements == ["794-R-4"] and "срок уведомления в каталоге не установлен" in n.rule
    refused = app_with(conformity_decisions=[{"regime": "ip794", "date": "2023-03-01", "in_register": False}])
    assert of_kind(deadlines(refused, AS_OF), "notice_due") == []
    assert order(deadlines(registered, AS_OF))[-1].kind == "notice_due"  # undated last


def _lease_app(ends: list[date]):
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    plot = data["land_plots"][0]
    data["land_plots"] = [dict(plot, right="lease", lease_end=e.isoformat()) for e in ends]
    return validate(data)


@pytest.mark.parametrize("offset, kept, overdue", [(-1, True, True), (0, True, False), (90, True, False),
                                                   (91, False, False)])
def test_within_bounds_lease_end(offset, kept, overdue):
    end = AS_OF + timedelta(days=offset)
    items = of_kind(within(deadlines(_lease_app([end]), AS_OF), AS_OF, 90), "lease_end")
    assert bool(items) is kept
    if kept:
        (d,) = items
        assert d.due == end and d.days_left == offset and d.overdue is overdue
        assert "794-P-1" in d.requirements  # the territory's area counts only plots with a right


def test_lease_ending_on_the_as_of_date_reads_today():
    (d,) = of_kind(deadlines(_lease_app([AS_OF]), AS_OF), "lease_end")
    text = render_text([d], AS_OF, 0)
    assert "сегодня" in text and "просрочено" not in text
    late = of_kind(deadlines(_lease_app([AS_OF - timedelta(days=1)]), AS_OF), "lease_end")
    assert "просрочен на 1 день" in render_text(late, AS_OF, 0) and "из них просрочено: 1" in render_text(late, AS_OF, 0)


def test_document_freshness_and_validity_come_from_the_catalog_and_the_document():
    app = app_with(documents=[{"kind": "egrn_extract", "date": "2025-03-01", "number": "К-1"},
                              {"kind": "utility_technical_conditions", "date": "2025-01-10",
                               "valid_until": "2027-01-10", "refers_to": "electricity"}])
    items = deadlines(app, AS_OF)
    days = load_catalog("ip794").rulebook.document_kinds["egrn_extract"].freshness_days
    (stale,) = of_kind(items, "document_stale")
    assert stale.due == date(2025, 3, 1) + timedelta(days=days) and stale.overdue
    (ends,) = of_kind(items, "document_expires")
    assert ends.due == date(2027, 1, 10) and ends.days_left == 35 and "электроснабжение" in ends.title
    decided = app_with(documents=app.model_dump(mode="json")["documents"],
                       conformity_decisions=[{"regime": "ip794", "date": "2025-06-01"}])
    kinds = [d.kind for d in deadlines(decided, AS_OF)]  # the filing's extracts have served once decided
    assert "document_stale" not in kinds and "document_expires" in kinds


def test_waiver_and_contract_ends():
    app = app_with(residents=[{"name": "ООО «Тест»", "inn": "7707083893", "contract_date": "2024-01-01",
                               "contract_end": "2027-01-01", "producing": True}])
    jf = JudgementsFile(regime="ip794", catalog_version="x", waivers=[
        {"requirement_id": "794-P-9", "justification": "дорога строится", "expires": "2026-12-31"}])
    items = deadlines(app, AS_OF, judgements=jf)
    (w,) = of_kind(items, "waiver_expires")
    assert w.due == date(2026, 12, 31) and w.days_left == 25 and w.requirements == ["794-P-9"]
    (c,) = of_kind(items, "contract_ends")
    assert c.due == date(2027, 1, 1) and "794-P-11" in c.requirements


def test_soonest_first_across_applications():
    a = _lease_app([AS_OF + timedelta(days=30), AS_OF + timedelta(days=5)])
    b = app_with(conformity_decisions=[{"regime": "ip794", "date": "2021-12-20", "in_register": True}])
    items = order(deadlines(a, AS_OF, "a") + deadlines(b, AS_OF, "b"))
    dated = [d.due for d in items if d.due]
    assert dated == sorted(dated) and items[0].due == AS_OF - timedelta(days=(AS_OF - min(dated)).days)
    assert [d.due is None for d in items] == sorted(d.due is None for d in items)


def test_decisions_change_no_verdict_and_no_hash_when_absent():
    plain = validate(yaml.safe_load(BASE.read_text(encoding="utf-8")))
    decided = app_with(conformity_decisions=[{"regime": "ip794", "date": "2023-03-01"}])
    before = plain.model_dump(mode="json")
    assert before.pop("conformity_decisions") == []
    assert input_hash(plain) == input_hash(before)  # the hash the application had before the section existed
    assert input_hash(plain) != input_hash(decided)
    a, b = evaluate(plain, "ip794", AS_OF), evaluate(decided, "ip794", AS_OF)
    assert a.verdict == b.verdict and [f.status for f in a.findings] == [f.status for f in b.findings]


def test_ics_round_trip_with_stable_uids():
    a = app_with(conformity_decisions=[{"regime": "ip794", "date": "2023-03-01", "in_register": True}])
    items = deadlines(a, AS_OF, "заявка-1")
    cal = Calendar.from_ical(to_ics(items, AS_OF))
    events = cal.walk("VEVENT")
    dated = [d for d in items if d.due]
    assert len(events) == len(dated) and len(dated) < len(items)  # the undated notice is not in the calendar
    assert [e.decoded("dtstart") for e in events] == [d.due for d in dated]
    assert [str(e["uid"]) for e in events] == [uid(d) for d in dated]
    assert len({str(e["uid"]) for e in events}) == len(events)
    again = Calendar.from_ical(to_ics(deadlines(a, AS_OF + timedelta(days=3), "заявка-1"), AS_OF))
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == [str(e["uid"]) for e in events]
    exp = next(e for e, d in zip(events, dated) if d.kind == "decision_expires")
    assert str(exp["summary"]).startswith(a.site_name) and "794-R-3" in str(exp["description"])
    assert "действует 5 лет" in str(exp["description"])


# --- the command line ---------------------------------------------------------------------------------------------
def _write_app(path: Path, **changes) -> Path:
    data = yaml.safe_load(BASE.read_text(encoding="utf-8")) | changes
    path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    return path


def test_cli_json_and_exit_codes(monkeypatch, capsys, tmp_path):
    folder = tmp_path / "apps"
    folder.mkdir()
    _write_app(folder / "a.json", conformity_decisions=[{"regime": "ip794", "date": "2021-12-20"}])
    code, out, err = run(monkeypatch, capsys, "watch", str(folder), "--as-of", "2026-12-06", "--within", "30",
                         "--format", "json")
    assert code == 0 and err.strip() == ""
    body = json.loads(out)
    kinds = {d["kind"]: d for d in body["deadlines"]}
    assert kinds["decision_expires"]["due"] == "2026-12-20" and kinds["decision_expires"]["days_left"] == 14
    assert all(d["due"] is None or d["due"] <= "2027-01-05" for d in body["deadlines"])
    (folder / "broken.json").write_text("{", encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "watch", str(folder), "--as-of", "2026-12-06")
    assert code == 1 and "Не удалось прочитать" in err and "broken.json" in err and "Traceback" not in err
    assert "Сроки на 06.12.2026 на 90 дней вперёд" in out and "794-R-3" in out


@pytest.mark.parametrize("args, words", [
    (["нет-такого"], "не найден"),
    (["{folder}", "--as-of", "32.01.2026"], "--as-of"),
    (["{folder}", "--within", "-1"], "--within"),
])
def test_cli_refuses_bad_input_in_russian(monkeypatch, capsys, tmp_path, args, words):
    _write_app(tmp_path / "a.json")
    code, _, err = run(monkeypatch, capsys, "watch", *[a.format(folder=tmp_path) for a in args])
    assert code == 2 and words in err and "Traceback" not in err


def test_cli_ics_file(monkeypatch, capsys, tmp_path):
    _write_app(tmp_path / "a.json", conformity_decisions=[{"regime": "ip794", "date": "2022-01-10"}])
    target = tmp_path / "out" / "сроки.ics"
    code, _, _ = run(monkeypatch, capsys, "watch", str(tmp_path / "a.json"), "--as-of", "2026-12-06", "--within",
                     "60", "--format", "ics", "--output", str(target))
    assert code == 0
    events = Calendar.from_ical(target.read_bytes()).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events if "решения" in str(e["summary"])] == [date(2027, 1, 10)]
