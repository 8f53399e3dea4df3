"""The application editor (/applications/new, /applications/{id}/edit): a form generated from the input model,
numbers with a decimal comma, rows added and removed without saving, messages next to their fields, and a
round trip of every fixture through the form that changes nothing."""
from __future__ import annotations

import json
import re
from datetime import date
from html.parser import HTMLParser
from typing import get_args

import pytest
import yaml

from api.web import forms
from compliance import form_spec
from compliance.loading import validate
from compliance.models import UsefulAreaBreakdown
from compliance.storage import ApplicationVersion, StoredApplication
from webclient import FIXTURES, second_org, web_client

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
APPLICATION_FIXTURES = sorted(
    p.name for p in list(FIXTURES.glob("*.yaml")) + list(FIXTURES.glob("*.json"))
    if "regimes" in (yaml.safe_load(p.read_text("utf-8")) or {}))  # gost-judgements-*.yaml are expert assessments


# --- a browser's view of the form -------------------------------------------------------------------------------
class FormFields(HTMLParser):
    """The fields a browser would submit from the form with `form_id` (no submit button): text and hidden inputs,
    checked boxes, the selected (or first) option of each select, textareas (the newline after <textarea> dropped);
    also every labelled control for the accessibility checks."""

    def __init__(self, form_id: str = "application-form"):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.controls: list[dict] = []  # visible inputs, selects, textareas: their attributes
        self.label_for: list[str] = []
        self.ids: list[str] = []
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            return
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label" and "for" in a:
            self.label_for.append(a["for"])
        if not self.inside:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind != "hidden":
                self.controls.append(a)
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if "name" in a:
                self.fields.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self._select = {"name": a.get("name"), "options": []}
            self.controls.append(a)
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {"name": a.get("name"), "text": ""}
            self.controls.append(a)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]] or options[:1]
            for o in chosen:
                self.fields.append((self._select["name"], o["value"] if o["value"] is not None else o["text"]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            self.fields.append((self._textarea["name"], text[1:] if text.startswith("\n") else text))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data
        elif self._option is not None:
            self._option["text"] += data


def parse_form(html: str) -> FormFields:
    parser = FormFields()
    parser.feed(html)
    parser.close()
    return parser


def form_fields(html: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in parse_form(html).fields if name != "csrf"]


# --- helpers --------------------------------------------------------------------------------------------------------
def _versions(web) -> list[ApplicationVersion]:
    with web.app.state.sessions() as s:
        rows = s.query(ApplicationVersion).order_by(ApplicationVersion.application_id, ApplicationVersion.version).all()
        s.expunge_all()
        return rows


def _count_apps(web) -> int:
    with web.app.state.sessions() as s:
        return s.query(StoredApplication).count()


def _body(web, app_id: str, version: int | None = None) -> dict:
    with web.app.state.sessions() as s:
        row = s.get(StoredApplication, app_id)
        ver = s.query(ApplicationVersion).filter_by(application_id=app_id,
                                                    version=version or row.current_version).one()
        return ver.body


def _minimal(**extra) -> list[tuple[str, str]]:
    fields = [("regimes", "ip794"), ("site_name", "Индустриальный парк «Северный»"), ("region", "Тверская область"),
              ("filing_date", "2025-04-01"), ("subtype", "general"), ("schema_version", "1")]
    return fields + list(extra.items())


def _field_block(html: str, input_id: str) -> str:
    """The `.field` block (label, messages, input) that holds the control with this id."""
    at = html.index(f'id="{input_id}"')
    start = html.rindex('<div class="field', 0, at)
    return html[start:html.index("</div>", at) + 6]


def _created_id(response) -> str:
    assert response.status_code == 303, response.text[:3000]
    location = response.headers["location"]
    assert location.endswith("?msg=created") or location.endswith("?msg=updated"), location
    return location.split("?")[0].rsplit("/", 1)[1]


# --- create ---------------------------------------------------------------------------------------------------------
def test_new_form_page_lists_every_section_and_preselects_a_regime(tmp_path):
    web = web_client(tmp_path)
    r = web.client.get("/applications/new?regime=cl779")
    assert r.status_code == 200
    html = r.text
    assert '<a href="/applications/new" aria-current="page">' in html  # the menu item is highlighted
    assert '<link rel="stylesheet" href="/static/editor.css">' in html
    for title in ("Общие сведения", "Управляющая компания", "Земельные участки", "Здания", "Зонирование территории",
                  "Инженерная инфраструктура", "Подъездная дорога", "Объекты сервисной инфраструктуры", "Резиденты",
                  "Пользователи инфраструктуры", "Технологическая инфраструктура", "Промышленный кластер",
                  "Документы"):
        assert f">{title}</a>" in html, title  # in the contents
    assert re.search(r'id="f-regimes-cl779" name="regimes" value="cl779" checked', html)
    assert not re.search(r'id="f-regimes-ip794"[^>]*checked', html)
    assert re.search(r'<details class="section card" id="sec-cluster" open>', html)  # cl779: the cluster is open
    assert re.search(r'<details class="section card" id="sec-land_plots">', html)  # empty: collapsed
    assert f'value="{date.today().isoformat()}"' in _field_block(html, "f-filing_date")
    fresh = web.client.get("/applications/new?regime=ip794").text
    assert '<details class="section card" id="sec-cluster">' in fresh
    assert web.client.get("/static/editor.css").status_code == 200


def test_create_through_the_form_stores_the_typed_values(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/new", _minimal(**{
        "category": "operating", "region_code": "69", "address": "  Тверь, Промышленная ул., 5  ",
        "management_company.name": "ООО «УК Северный»", "management_company.inn": "7707083893",
        "management_company.in_bankruptcy": "false", "management_company.in_liquidation": "",
        "land_plots.0.cadastral_number": "69:40:0100101:12", "land_plots.0.area.value": "12 500,5",
        "land_plots.0.area.unit": "m2", "land_plots.0.right": "lease", "land_plots.0.lease_end": "31.12.2040",
        "land_plots.1.cadastral_number": " ", "land_plots.1.area.value": "", "land_plots.1.area.unit": "ha",
        "residents.0.name": "АО «Станкомаш»", "residents.0.inn": "7736207543", "residents.0.planned": "false",
        "residents.0.high_tech_fields": ["robotics", "it"], "residents.0.premises_area.value": "1 200",
        "residents.0.premises_area.unit": "m2",
        "tech_infrastructure.0.type": "laboratory", "tech_infrastructure.0.name": "Лаборатория испытаний",
        "tech_infrastructure.0.equipment": "разрывная машина\n\n  климатическая камера  \n",
        "cluster.reporting_year": "2 024",
        "partnerships._state": "none", "management_company.services._state": "none",
        "service_objects._state": "",
    }) + [("action", "save")])
    app_id = _created_id(r)
    assert r.headers["location"] == f"/applications/{app_id}?msg=created"
    body = _body(web, app_id)
    assert body["regimes"] == ["ip794"] and body["site_name"] == "Индустриальный парк «Северный»"
    assert body["filing_date"] == "2025-04-01" and body["category"] == "operating" and body["region_code"] == "69"
    assert body["address"] == "Тверь, Промышленная ул., 5"
    assert body["management_company"]["inn"] == "7707083893"
    assert body["management_company"]["in_bankruptcy"] is False and body["management_company"]["in_liquidation"] is None
    assert len(body["land_plots"]) == 1  # the blank second row is dropped
    assert body["land_plots"][0]["area"] == {"value": 12500.5, "unit": "m2"}
    assert body["land_plots"][0]["lease_end"] == "2040-12-31"  # typed as ДД.ММ.ГГГГ
    assert body["residents"][0]["high_tech_fields"] == ["robotics", "it"]  # as chosen, not in the page's order
    assert body["residents"][0]["premises_area"] == {"value": 1200.0, "unit": "m2"}
    assert body["residents"][0]["planned"] is False
    assert body["tech_infrastructure"][0]["equipment"] == ["разрывная машина", "климатическая камера"]
    # «не указано» is left out (null), «нет» is an empty list: the checks tell the two apart
    assert body["cluster"]["reporting_year"] == 2024 and body["cluster"]["participants"] is None
    assert body["partnerships"] == [] and body["management_company"]["services"] == []
    assert body["service_objects"] is None and body["infrastructure_users"] is None
    assert body["zoning"] is None and body["road_access"] is None  # blank optional sections are left out
    assert [v.source for v in _versions(web)] == ["form"]
    page = web.client.get(r.headers["location"]).text
    assert "Заявка сохранена." in page


def test_a_validation_error_is_shown_next_to_its_field_and_nothing_is_stored(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/new", _minimal(**{
        "site_name": "Парк «Южный»",
        # a blank first row: the invalid row is the form's second, the model's first
        "land_plots.0.area.value": "", "land_plots.0.area.unit": "ha",
        "land_plots.1.area.value": "-3", "land_plots.1.area.unit": "ha",
        "land_plots.1.cadastral_number": "69:40:0100101:12",
        "buildings.0.total_area.value": "100", "buildings.0.total_area.unit": "m2",
        "buildings.0.useful_area.value": "150", "buildings.0.useful_area.unit": "m2", "buildings.0.purpose": "office",
    }))
    assert r.status_code == 422
    assert _count_apps(web) == 0
    html = r.text
    alert = html[html.index('role="alert"') - 40:html.index("</ul>", html.index('role="alert"'))]
    assert "Заявка не сохранена: исправьте 2 ошибки" in alert
    assert 'href="#f-land_plots-1-area-value"' in alert and 'href="#f-buildings-0-useful_area-value"' in alert
    block = _field_block(html, "f-land_plots-1-area-value")
    assert 'class="field quantity invalid"' in block
    assert "значение не может быть отрицательным" in block and 'id="f-land_plots-1-area-value-error"' in block
    assert re.search(r'id="f-land_plots-1-area-value"[^>]*aria-describedby="f-land_plots-1-area-value-error"'
                     r'[^>]*aria-invalid="true"', block)
    assert "полезная площадь больше общей площади здания" in _field_block(html, "f-buildings-0-useful_area-value")
    assert "invalid" not in _field_block(html, "f-land_plots-0-area-value")
    # everything typed is kept, the blank row too
    assert 'value="Парк «Южный»"' in _field_block(html, "f-site_name")
    assert 'value="-3"' in block and 'value="69:40:0100101:12"' in html
    assert '<details class="section card invalid" id="sec-land_plots" open>' in html


def test_none_and_not_stated_are_offered_for_optional_lists_and_kept(tmp_path):
    """Each list where «не указано» and «нет» differ has the choice; the stored answer is shown selected."""
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")  # service_objects: [] («нет»); tech_infrastructure left out
    html = web.client.get(f"/applications/{app_id}/edit").text
    chosen = dict(re.findall(r'<select id="f-([\w-]+)-_state" name="[^"]+">.*?<option value="(\w*)" selected', html))
    assert chosen["service_objects"] == "none" and chosen["tech_infrastructure"] == ""
    assert chosen["residents"] == "listed" and chosen["management_company-services"] == ""
    assert '<label for="f-service_objects-_state">Объекты сервисной инфраструктуры: сведения</label>' in html
    assert "<option value=\"none\" selected>нет (ни одного)</option>" in html
    # the utilities' status offers «нет и не планируется» and «не указано» in Russian
    status = _field_block(html, "f-utilities-3-status")
    assert '<option value="absent" selected>нет и не планируется</option>' in status
    assert '<option value="not_stated">не указано</option>' in status


def test_none_with_filled_rows_is_refused_at_the_list(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/new", _minimal(**{
        "residents._state": "none", "residents.0.name": "АО «Станкомаш»", "residents.0.inn": "7736207543"}))
    assert r.status_code == 422 and _count_apps(web) == 0
    assert "выбрано «нет», а ниже есть заполненные строки" in r.text
    assert 'href="#f-residents"' in r.text  # the summary links to the list


def test_missing_required_fields_are_reported_at_their_inputs(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/new", [("site_name", ""), ("region", "Тверская область"), ("filing_date", ""),
                                       ("documents.0.title", "Выписка"), ("documents.0.kind", "")])
    assert r.status_code == 422 and _count_apps(web) == 0
    html = r.text
    assert "Заявка не сохранена: исправьте 4 ошибки" in html
    assert "обязательное поле не заполнено" in _field_block(html, "f-site_name")
    assert "обязательное поле не заполнено" in _field_block(html, "f-filing_date")
    assert "обязательное поле не заполнено" in _field_block(html, "f-documents-0-kind")
    regimes = html[html.index('<fieldset class="checks wide invalid" id="f-regimes"'):]
    assert 'id="f-regimes-error"' in regimes[:regimes.index("</fieldset>")]
    assert 'href="#f-regimes-ip794"' in html  # the summary links to the first checkbox


def test_cluster_cross_reference_problems_land_on_the_fields_they_name(tmp_path):
    web = web_client(tmp_path)
    participant = {"region": "Самарская область", "kind": "industrial"}
    fields = _minimal(**{f"cluster.participants.{i}.{k}": v for i in (0, 1) for k, v in participant.items()},
                      **{"cluster.participants.0.name": "ООО «Альфа»", "cluster.participants.0.inn": "7707083893",
                         "cluster.participants.1.name": "ООО «Бета»", "cluster.participants.1.inn": "7707083893",
                         "cluster.contracts.0.party_a_inn": "7707083893",
                         "cluster.contracts.0.party_b_inn": "7736207543",
                         "cluster.contracts.0.type": "cluster_products_supply"})
    fields = [(k, "cl779" if k == "regimes" else v) for k, v in fields]
    r = web.post("/applications/new", fields)
    assert r.status_code == 422 and _count_apps(web) == 0
    html = r.text
    assert "указан дважды" in _field_block(html, "f-cluster-participants-1-inn")
    assert "нет среди участников кластера" in _field_block(html, "f-cluster-contracts-0-party_b_inn")
    assert 'href="#f-cluster-participants-1-inn"' in html and 'href="#f-cluster-contracts-0-party_b_inn"' in html


def test_document_dated_after_filing_is_shown_at_the_document_date(tmp_path):
    web = web_client(tmp_path)
    r = web.post("/applications/new", _minimal(**{"documents.0.kind": "egrn_extract",
                                                  "documents.0.date": "02.05.2025"}))
    assert r.status_code == 422
    assert "позже даты подачи 01.04.2025" in _field_block(r.text, "f-documents-0-date")
    assert 'value="2025-05-02"' in _field_block(r.text, "f-documents-0-date")  # shown as a date the picker reads


def test_comma_decimals_and_unreadable_numbers(tmp_path):
    web = web_client(tmp_path)
    bad = web.post("/applications/new", _minimal(**{"land_plots.0.area.value": "12,5,3", "land_plots.0.area.unit": "ha",
                                                    "cluster.reporting_year": "2024,5",
                                                    "road_access.hard_surface": "true",
                                                    "road_access.distance_to_public_road_km": "пять"}))
    assert bad.status_code == 422 and _count_apps(web) == 0
    assert "ожидается число" in _field_block(bad.text, "f-land_plots-0-area-value")
    assert "обязательное поле" not in _field_block(bad.text, "f-land_plots-0-area-value")  # one message, not two
    assert "ожидается число" in _field_block(bad.text, "f-road_access-distance_to_public_road_km")
    assert "ожидается целое число" in _field_block(bad.text, "f-cluster-reporting_year")
    assert 'value="12,5,3"' in bad.text and 'value="пять"' in bad.text
    assert "исправьте 3 ошибки" in bad.text
    good = web.post("/applications/new", _minimal(**{"land_plots.0.area.value": " 1\u00a0234,75 ",
                                                     "land_plots.0.area.unit": "ha",
                                                     "road_access.hard_surface": "true",
                                                     "road_access.distance_to_public_road_km": "0,8"}))
    body = _body(web, _created_id(good))
    assert body["land_plots"][0]["area"] == {"value": 1234.75, "unit": "ha"}
    assert body["road_access"] == {"hard_surface": True, "road_name": None, "distance_to_public_road_km": 0.8,
                                   "document": None, "rail_siding": None}


@pytest.mark.parametrize(("text", "integer", "expected"), [
    ("12 500,5", False, 12500.5), ("0,8", False, 0.8), ("1e-05", False, 1e-05), ("7", True, 7), ("2 024", True, 2024),
    ("12.0", True, 12)])
def test_parse_number(text, integer, expected):
    value = forms.parse_number(text, integer)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text", ["", "1,2,3", "abc", "nan", "inf", "1.5"])
def test_parse_number_refuses(text):
    with pytest.raises(ValueError):
        forms.parse_number(text, integer=text == "1.5")


@pytest.mark.parametrize("x", [12500.5, 0.1 + 0.2, 1e-05, 125000000.0, 3.0, 1234.5678, 12345678901234567.0])
def test_numbers_are_shown_exactly(x):
    shown = forms.show_number(x)
    assert "." not in shown and forms.parse_number(shown) == x


# --- add / remove rows ----------------------------------------------------------------------------------------------
def test_add_and_remove_rows_keep_what_was_typed_and_save_nothing(tmp_path):
    web = web_client(tmp_path)
    typed = _minimal(**{"land_plots.0.cadastral_number": "69:40:0100101:1", "land_plots.0.area.value": "3,5",
                        "land_plots.0.area.unit": "ha"})
    r = web.post("/applications/new", typed + [("action", "add:land_plots")])
    assert r.status_code == 200 and _count_apps(web) == 0
    html = r.text
    assert "<legend>Земельный участок № 1</legend>" in html and "<legend>Земельный участок № 2</legend>" in html
    assert 'value="Индустриальный парк «Северный»"' in html and 'value="3,5"' in html
    assert re.search(r'id="f-land_plots-1-cadastral_number"[^>]*autofocus', html)  # focus goes to the new row
    assert 'name="action" value="add:land_plots" class="add">Добавить земельный участок</button>' in html
    assert ('name="action" value="remove:land_plots.1" class="danger remove">Удалить'
            '<span class="visually-hidden"> Земельный участок № 2</span>') in html
    # the next post is built from the page itself, as a browser would: fill the new row, then remove the first
    typed_in_row = {"land_plots.1.cadastral_number": "69:40:0100101:2", "land_plots.1.area.value": "2"}
    fields = [(k, typed_in_row.get(k, v)) for k, v in form_fields(html)]
    r = web.post("/applications/new", fields + [("action", "remove:land_plots.0")])
    assert r.status_code == 200 and _count_apps(web) == 0
    html = r.text
    assert "Земельный участок № 2" not in html
    assert 'value="69:40:0100101:2"' in _field_block(html, "f-land_plots-0-cadastral_number")
    assert "69:40:0100101:1" not in html
    # nested lists inside a section: cluster participants
    r = web.post("/applications/new", form_fields(html) + [("action", "add:cluster.participants")])
    assert "<legend>Участник кластера № 1</legend>" in r.text
    assert 'id="f-cluster-participants-0-inn"' in r.text
    # a row left blank is dropped on save
    r = web.post("/applications/new", form_fields(r.text) + [("action", "save")])
    body = _body(web, _created_id(r))
    assert [p["cadastral_number"] for p in body["land_plots"]] == ["69:40:0100101:2"]
    assert body["cluster"] is None


def test_unknown_actions_change_nothing(tmp_path):
    web = web_client(tmp_path)
    for action in ("add:site_name", "remove:land_plots.7", "add:nothing", "remove:regimes"):
        r = web.post("/applications/new", _minimal() + [("action", action)])
        assert r.status_code == 200, action
        assert 'value="Индустриальный парк «Северный»"' in r.text
    assert _count_apps(web) == 0


# --- edit -----------------------------------------------------------------------------------------------------------
def test_edit_form_is_filled_from_the_stored_version_and_saves_a_new_one(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    model = validate(yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text("utf-8")))
    r = web.client.get(f"/applications/{app_id}/edit")
    assert r.status_code == 200
    html = r.text
    assert f'value="{model.site_name}"' in _field_block(html, "f-site_name")
    plot = model.land_plots[0]
    assert f'value="{forms.show_number(plot.area.value)}"' in _field_block(html, "f-land_plots-0-area-value")
    assert f'action="/applications/{app_id}/edit"' in html
    fields = [(k, "Новое имя парка" if k == "site_name" else v) for k, v in form_fields(html)]
    r = web.post(f"/applications/{app_id}/edit", fields)
    assert r.status_code == 303 and r.headers["location"] == f"/applications/{app_id}?msg=updated"
    before, after = _body(web, app_id, 1), _body(web, app_id, 2)
    assert after["site_name"] == "Новое имя парка"
    assert {**after, "site_name": before["site_name"]} == before
    assert [v.source for v in _versions(web)] == ["ip794-created-gaps.yaml", "form"]


def test_another_organisation_gets_404_on_edit(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    other = second_org(web)
    assert other.get(f"/applications/{app_id}/edit").status_code == 404
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', other.get("/applications").text).group(1)
    r = other.post(f"/applications/{app_id}/edit", data={"csrf": csrf, **dict(_minimal())}, follow_redirects=False)
    assert r.status_code == 404
    assert len(_versions(web)) == 1
    assert web.client.get("/applications/nonexistent/edit").status_code == 404


def test_csrf_is_required(tmp_path):
    web = web_client(tmp_path)
    data = dict(_minimal())
    r = web.client.post("/applications/new", data=data, follow_redirects=False)
    assert r.status_code == 403 and "Форма устарела" in r.text
    r = web.client.post("/applications/new", data={**data, "csrf": "0" * 40}, follow_redirects=False)
    assert r.status_code == 403
    app_id = web.upload("ip794-created-gaps.yaml")
    r = web.client.post(f"/applications/{app_id}/edit", data=data, follow_redirects=False)
    assert r.status_code == 403
    assert _count_apps(web) == 1 and len(_versions(web)) == 1


def test_sign_in_is_required(tmp_path):
    web = web_client(tmp_path)
    fresh = type(web.client)(web.app)
    r = fresh.get("/applications/new", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in?next=/applications/new")


def test_saving_over_a_newer_version_asks_first(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("ip794-created-gaps.yaml")
    fields = form_fields(web.client.get(f"/applications/{app_id}/edit").text)
    web.upload("ip794-created-gaps.yaml", app_id)  # someone saves version 2 meanwhile
    r = web.post(f"/applications/{app_id}/edit", fields)
    assert r.status_code == 409 and "Заявка изменилась, пока вы её редактировали" in r.text
    assert len(_versions(web)) == 2
    r = web.post(f"/applications/{app_id}/edit", form_fields(r.text))  # the second press saves
    assert r.status_code == 303 and len(_versions(web)) == 3


# --- round trip -----------------------------------------------------------------------------------------------------
def test_the_round_trip_covers_the_fixtures():
    assert len(APPLICATION_FIXTURES) >= 10
    assert {"cl779-conforming.json", "htp1381-operating.yaml", "brownfield-794-1863.yaml"} <= set(APPLICATION_FIXTURES)


@pytest.mark.parametrize("name", APPLICATION_FIXTURES)
def test_round_trip_through_the_form_changes_nothing(tmp_path, name):
    web = web_client(tmp_path)
    app_id = web.upload(name)
    page = web.client.get(f"/applications/{app_id}/edit")
    assert page.status_code == 200
    r = web.post(f"/applications/{app_id}/edit", form_fields(page.text) + [("action", "save")])
    assert r.status_code == 303, re.findall(r'<li><a href="#[^"]+">.*?</li>', r.text)[:10]
    before, after = _body(web, app_id, 1), _body(web, app_id, 2)
    assert after == before


def test_round_trip_keeps_unit_spellings_order_and_empty_objects(tmp_path):
    web = web_client(tmp_path)
    data = yaml.safe_load((FIXTURES / "ip794-created-gaps.yaml").read_text("utf-8"))
    data["regimes"] = ["itp1863", "ip794"]  # not in the page's order
    data["land_plots"][0]["area"]["unit"] = "га"  # an alias the unit list does not offer
    data["buildings"] = [{"total_area": {"value": 1000, "unit": "м²"}, "purpose": "production",
                          "useful_area_breakdown": {}}]  # an object with nothing in it
    data["cluster"] = {}
    raw = json.dumps(data, ensure_ascii=False, default=str).encode()
    r = web.post("/applications/upload", files={"file": ("a.json", raw)})
    app_id = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    html = web.client.get(f"/applications/{app_id}/edit").text
    assert '<option value="га" selected>га</option>' in html
    r = web.post(f"/applications/{app_id}/edit", form_fields(html))
    assert r.status_code == 303
    before, after = _body(web, app_id, 1), _body(web, app_id, 2)
    assert after == before
    assert after["regimes"] == ["itp1863", "ip794"] and after["cluster"]["participants"] is None
    breakdown = after["buildings"][0]["useful_area_breakdown"]
    assert len(breakdown) == len(UsefulAreaBreakdown.model_fields) and set(breakdown.values()) == {None}


# --- Russian everywhere, labels on everything -----------------------------------------------------------------------
def test_every_field_and_every_choice_has_a_russian_text():
    leaves = form_spec.leaves()
    assert len(leaves) > 150
    names = {path for path, _ in leaves}
    assert {"site_name", "land_plots.*.area", "cluster.contracts.*.party_b_inn",
            "buildings.*.useful_area_breakdown.offices", "cluster.programme.goals"} <= names
    for path, node in leaves:
        assert CYRILLIC.search(node.label), f"{path}: no Russian label ({node.label!r})"
        assert node.label != path.rsplit(".", 1)[-1]
        if node.help:
            assert not re.search(r"\b[a-z]{3,}\b", node.help.replace("http", "").replace("https", "")
                                 .replace("shared_equipment_centre", "")), f"{path}: English in help {node.help!r}"
        if node.kind == "fixed":  # schema_version: a hidden field, nothing is shown
            assert len(node.options) == 1
            continue
        for code, text in node.options:
            assert CYRILLIC.search(text), f"{path}: option {code!r} has no Russian text ({text!r})"
    utility_units = dict(next(n for p, n in leaves if p == "utilities.*.capacity").options)
    assert {"MW", "kW", "Gcal/h", "m3/h", "m3/day", "Mbit/s", "Gbit/s"} <= set(utility_units)
    land_units = dict(next(n for p, n in leaves if p == "land_plots.*.area").options)
    assert land_units == {"ha": "га", "m2": "м²", "km2": "км²"}


def test_unwrap_refuses_a_union_of_several_types_only_for_the_form():
    """One unwrap for the form and for what-if: Annotated and Optional are looked through alike; a union of several
    types is returned as it is (what-if), or refused when the form asks (it has no input for one)."""
    from compliance.models import ManagementCompany

    assert form_spec.unwrap(ManagementCompany.model_fields["registration_date"].annotation) is date
    assert form_spec.unwrap(list[int] | None) == list[int]
    union = int | str | None
    assert form_spec.unwrap(union) == union
    with pytest.raises(TypeError, match="union"):
        form_spec.unwrap(union, refuse_unions=True)
    assert form_spec.unwrap(ManagementCompany.model_fields["registration_date"].annotation, refuse_unions=True) is date


def test_every_model_literal_is_offered():
    """Every code the model allows is an option of its field (the form is generated from the model)."""
    from compliance.models import Building, DocumentKind, RegimeCode

    leaves = dict(form_spec.leaves())
    assert [c for c, _ in leaves["regimes"].options] == list(get_args(RegimeCode))
    assert [c for c, _ in leaves["documents.*.kind"].options] == list(get_args(DocumentKind))
    purposes = set(get_args(Building.model_fields["purpose"].annotation))
    assert {c for c, _ in leaves["buildings.*.purpose"].options} == purposes
    assert {c for c, _ in leaves["regimes"].options} == {"ip794", "itp1863", "htp1381", "cl779", "gost56425"}


def test_every_input_has_a_label_and_ids_are_unique(tmp_path):
    web = web_client(tmp_path)
    app_id = web.upload("cl779-conforming.json")
    for url in ("/applications/new", f"/applications/{app_id}/edit"):
        parsed = parse_form(web.client.get(url).text)
        assert len(parsed.controls) > 40
        duplicates = {i for i in parsed.ids if parsed.ids.count(i) > 1}
        assert not duplicates, duplicates
        labelled = set(parsed.label_for)
        for control in parsed.controls:
            assert control.get("id") in labelled, f"{url}: no <label for> of {control}"
        for ref in {x for c in parsed.controls for x in c.get("aria-describedby", "").split()}:
            assert ref in parsed.ids, f"{url}: aria-describedby points to a missing id {ref}"


@pytest.mark.parametrize(("path", "rows", "expected"), [
    ("land_plots[2].area", {"land_plots": [0, 4, 5]}, "land_plots.5.area"),
    ("land_plots[0].area.value", {"land_plots": [3]}, "land_plots.3.area.value"),
    ("cluster.contracts[1].party_b_inn", {"cluster.contracts": [0, 1]}, "cluster.contracts.1.party_b_inn"),
    ("buildings[0].useful_area_breakdown", {}, "buildings.0.useful_area_breakdown"),
    ("regimes[0]", {}, "regimes"),
    ("cluster.no_such_field[3].inn", {}, "cluster"),
    ("no_such_section", {}, ""),
])
def test_locate_maps_a_model_path_to_the_deepest_form_element(path, rows, expected):
    assert forms.locate(path, rows) == expected


def test_problems_without_a_field_are_shown_at_their_section_and_in_the_summary():
    from api.web.common import templates

    view = forms.build_view(forms.blank(forms.spec()), [("", "заявка в целом не годится"),
                                                        (forms.locate("cluster", {}), "кластер не годится")])
    cluster = next(s for s in view.sections if s.id == "sec-cluster")
    assert cluster.open and cluster.invalid and cluster.node.errors == ["кластер не годится"]
    assert view.summary == [{"href": "", "label": "", "message": "заявка в целом не годится"},
                            {"href": "#f-cluster", "label": "Промышленный кластер", "message": "кластер не годится"}]
    html = templates.env.get_template("editor.html").render(view=view, app=None, form_action="/applications/new",
                                                            csrf="x", conflict=None)
    section = html[html.index('id="sec-cluster"'):html.index('id="sec-documents"')]
    assert '<p class="error" id="f-cluster-error">кластер не годится</p>' in section
    assert "Заявка не сохранена: исправьте 2 ошибки" in html
