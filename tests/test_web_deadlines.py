"""The «Сроки» page, its calendar download and GET /api/v1/deadlines over the organisation's stored applications."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import yaml
from icalendar import Calendar

import api.web.deadlines as page
from webclient import FIXTURES, second_org, web_client

AS_OF = date(2026, 12, 6)


def _store(web, **changes) -> str:
    body = json.loads(json.dumps(yaml.safe_load((FIXTURES / "ip794-operating-conforming.yaml").read_text(encoding="utf-8")) | changes, default=str))
    r = web.client.post("/api/v1/applications", json=body, headers={"Authorization": f"Bearer {web.token}"})
    assert r.status_code == 201, r.text[:2000]
    return r.json()["id"]


def _dates(html: str) -> list[str]:
    """The date column of the table, in order."""
    return re.findall(r"<tr[^>]*>\s*<td>(\d\d\.\d\d\.\d{4}|—)", html)


def test_page_lists_the_organisations_deadlines_soonest_first(tmp_path, monkeypatch):
    monkeypatch.setattr(page, "today", lambda: AS_OF)
    web = web_client(tmp_path)
    lease = (AS_OF + timedelta(days=10)).isoformat()
    plot = yaml.safe_load((FIXTURES / "ip794-operating-conforming.yaml").read_text(encoding="utf-8"))["land_plots"][0]
    app_id = _store(web, conformity_decisions=[{"regime": "ip794", "date": "2021-12-20", "in_register": True}],
                    land_plots=[dict(plot, right="lease", lease_end=lease)])
    html = web.client.get("/deadlines?within=30").text
    assert "<h1>Сроки</h1>" in html and f"заявка № {app_id}" in html
    assert f'<a href="/applications/{app_id}">Индустриальный парк «Угорский»</a>' in html
    rows = _dates(html)
    dated = [date(int(d[6:]), int(d[3:5]), int(d[:2])) for d in rows if d != "—"]
    assert dated == sorted(dated) and date(2026, 12, 16) in dated and date(2026, 12, 20) in dated
    assert rows[-1] == "—"  # the notice with no deadline in the catalog, last
    assert "срок уведомления в каталоге не установлен" in html and "794-R-3" in html and "794-R-4" in html
    assert "через 10 дней" in html and "через 14 дней" in html
    for internal in ("ip794", "decision_expires", "lease_end", "notice_due", "None"):
        assert internal not in html
    short = _dates(web.client.get("/deadlines?within=12").text)
    assert "20.12.2026" not in short and "16.12.2026" in short
    cal = Calendar.from_ical(web.client.get("/deadlines.ics?within=30").content)
    assert sorted(e.decoded("dtstart") for e in cal.walk("VEVENT")) == dated
    other = second_org(web)
    assert "сроков нет" in other.get("/deadlines").text or "пока нет заявок" in other.get("/deadlines").text
    assert Calendar.from_ical(other.get("/deadlines.ics").content).walk("VEVENT") == []


def test_api_deadlines_and_sign_in(tmp_path):
    web = web_client(tmp_path)
    _store(web, conformity_decisions=[{"regime": "ip794", "date": "2020-02-29"}])
    auth = {"Authorization": f"Bearer {web.token}"}
    body = web.client.get("/api/v1/deadlines?as_of=2023-01-01&within=90", headers=auth).json()
    assert body["applications"] == 1 and body["as_of"] == "2023-01-01"
    exp = [d for d in body["deadlines"] if d["kind"] == "decision_expires"]
    assert [(d["due"], d["days_left"], d["overdue"]) for d in exp] == [("2023-02-28", 58, False)]
    assert web.client.get("/api/v1/deadlines").status_code == 401
    assert web.client.get("/api/v1/deadlines?within=-1", headers=auth).status_code == 422
    fresh = type(web.client)(web.app)
    assert fresh.get("/deadlines", follow_redirects=False).status_code == 303


def test_waivers_of_the_latest_check_with_judgements(tmp_path):
    """A waiver accepted in a stored check (the expert's judgements) expires: the watch lists it."""
    web = web_client(tmp_path)
    auth = {"Authorization": f"Bearer {web.token}"}
    body = json.loads(json.dumps(yaml.safe_load((FIXTURES / "htp1381-operating.yaml").read_text(encoding="utf-8")),
                                 default=str))
    r = web.client.post("/api/v1/applications", json=body, headers=auth)
    app_id = r.json()["id"]
    judgements = json.loads(json.dumps(yaml.safe_load(
        (FIXTURES / "gost-judgements-htp1381.yaml").read_text(encoding="utf-8")), default=str))
    r = web.client.post(f"/api/v1/applications/{app_id}/checks", json={"regime": "gost56425", "judgements": judgements},
                        headers=auth)
    assert r.status_code in (200, 201), r.text[:2000]
    out = web.client.get("/api/v1/deadlines?as_of=2025-12-01&within=30", headers=auth).json()
    waivers = [d for d in out["deadlines"] if d["kind"] == "waiver_expires"]
    expected = [w["expires"] for w in judgements["waivers"] if w["expires"] <= "2025-12-31"]
    assert [d["due"] for d in waivers] == sorted(expected) and expected
    assert waivers[0]["requirements"] == [judgements["waivers"][0]["requirement_id"]]
    assert waivers[0]["days_left"] == (date.fromisoformat(waivers[0]["due"]) - date(2025, 12, 1)).days


def test_calendar_events_keep_their_ids_when_a_new_version_is_saved(tmp_path, monkeypatch):
    monkeypatch.setattr(page, "today", lambda: AS_OF)
    web = web_client(tmp_path)
    decision = [{"regime": "ip794", "date": "2021-12-20", "in_register": True}]
    app_id = _store(web, conformity_decisions=decision)
    first = {str(e["uid"]) for e in Calendar.from_ical(web.client.get("/deadlines.ics").content).walk("VEVENT")}
    body = json.loads(json.dumps(yaml.safe_load((FIXTURES / "ip794-operating-conforming.yaml").read_text(
        encoding="utf-8")) | {"conformity_decisions": decision, "address": "другой адрес"}, default=str))
    r = web.client.put(f"/api/v1/applications/{app_id}", json=body, headers={"Authorization": f"Bearer {web.token}"})
    assert r.status_code == 200, r.text[:1000]
    assert "версия 2" in web.client.get("/deadlines").text
    again = {str(e["uid"]) for e in Calendar.from_ical(web.client.get("/deadlines.ics").content).walk("VEVENT")}
    assert again == first and len(first) == 2  # the decision's end and the re-confirmation package
