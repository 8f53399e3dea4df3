"""Web security: sign-in protected against login CSRF (a pre-session CSRF value bound to the browser and an
Origin/Referer check), the CSRF value rotated at sign-in, text written as text into every workbook the product writes
(no formula injection), and Markdown downloads without raw HTML from user text."""
from __future__ import annotations

import pytest
from lxml import html as lhtml

from compliance.storage import AuditEntry, create_token
from webclient import csrf_of, sign_in, web_client


def _other_token(web, org: str = "Злоумышленник") -> str:
    with web.app.state.sessions() as s:
        token, _ = create_token(s, org)
        s.commit()
    return token


def _fresh(web):
    return type(web.client)(web.app)


def _signed_in_as(client) -> str | None:
    """The organisation shown in the page header of this browser, or None when it is not signed in."""
    r = client.get("/applications", follow_redirects=False)
    if r.status_code != 200:
        return None
    return lhtml.fromstring(r.text).xpath("string(//div[@class='who']/span)").strip()


# --- login CSRF -------------------------------------------------------------------------------------------------
def test_sign_in_from_another_site_without_the_csrf_field_is_refused(tmp_path):
    """The attack: a page of evil.example posts another organisation's token to /sign-in from the victim's browser."""
    web = web_client(tmp_path)
    victim = _fresh(web)
    victim.get("/sign-in")  # the victim has been on the site: the browser holds its pre-session cookie
    attacker_token = _other_token(web)
    r = victim.post("/sign-in", data={"token": attacker_token, "next": "/applications"},
                    headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    assert "compliance_session" not in r.headers.get("set-cookie", "")
    assert "Войдите ещё раз" in r.text and 'name="token"' in r.text  # the sign-in form again, in Russian
    assert _signed_in_as(victim) is None
    with web.app.state.sessions() as s:
        assert s.query(AuditEntry).filter_by(action="web.sign_in").count() == 1  # only web_client's own sign-in


def test_sign_in_needs_the_csrf_field_of_this_browser(tmp_path):
    web = web_client(tmp_path)
    attacker_token = _other_token(web)
    # no field at all, from this site
    victim = _fresh(web)
    victim.get("/sign-in")
    r = victim.post("/sign-in", data={"token": attacker_token}, follow_redirects=False)
    assert r.status_code == 403 and "compliance_session" not in r.headers.get("set-cookie", "")
    # the attacker's own valid pre-session pair (field read from the attacker's browser) does not fit the victim's
    attacker = _fresh(web)
    field = csrf_of(attacker.get("/sign-in").text)
    r = victim.post("/sign-in", data={"token": attacker_token, "csrf": field}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(victim) is None
    # a browser without the pre-session cookie cannot sign in with any field
    bare = _fresh(web)
    r = bare.post("/sign-in", data={"token": attacker_token, "csrf": field}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(bare) is None
    # the same field in the attacker's own browser signs it in: the field is right, only bound to that browser
    r = attacker.post("/sign-in", data={"token": attacker_token, "csrf": field}, follow_redirects=False)
    assert r.status_code == 303 and _signed_in_as(attacker) == "Злоумышленник"


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Referer": "http://evil.example/page"},
                                     {"Origin": "http://testserver.evil.example", "Referer": "http://testserver/"}])
def test_sign_in_with_a_valid_field_but_a_foreign_origin_is_refused(tmp_path, headers):
    web = web_client(tmp_path)
    client = _fresh(web)
    field = csrf_of(client.get("/sign-in").text)
    r = client.post("/sign-in", data={"token": web.token, "csrf": field}, headers=headers, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(client) is None


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://testserver"}, {"Referer": "http://testserver/sign-in"}])
def test_sign_in_from_this_site_with_the_field_succeeds(tmp_path, headers):
    web = web_client(tmp_path)
    client = _fresh(web)
    r = sign_in(client, web.token, headers=headers)
    assert r.status_code == 303 and _signed_in_as(client) == "УК «Тест»"


def test_trusted_origin_from_settings_is_accepted(tmp_path):
    """Behind a proxy that does not pass the Host header, the public address is named in the settings."""
    web = web_client(tmp_path, trusted_origins=["https://compliance.example"])
    client = _fresh(web)
    assert sign_in(client, web.token, headers={"Origin": "https://compliance.example"}).status_code == 303
    other = _fresh(web)
    assert sign_in(other, web.token, headers={"Origin": "https://other.example"}).status_code == 403


def test_forms_of_a_signed_in_browser_posted_from_another_site_are_refused(tmp_path):
    web = web_client(tmp_path)
    field = web.csrf()
    r = web.client.post("/applications/new", data={"csrf": field}, headers={"Origin": "http://evil.example"},
                        follow_redirects=False)
    assert r.status_code == 403 and "Форма устарела" in r.text
    r = web.client.post("/sign-out", data={"csrf": field}, headers={"Origin": "http://evil.example"},
                        follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(web.client) == "УК «Тест»"


# --- the CSRF value: bound to the browser, rotated at sign-in ----------------------------------------------------
def test_csrf_value_is_bound_to_the_browser_and_rotated_at_sign_in(tmp_path):
    web = web_client(tmp_path)
    browser = _fresh(web)
    pre_session = csrf_of(browser.get("/sign-in").text)
    assert sign_in(browser, web.token).status_code == 303
    first = csrf_of(browser.get("/applications").text)
    assert first != pre_session
    r = browser.post("/sign-out", data={"csrf": pre_session}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(browser) == "УК «Тест»"

    # the same token in another browser: another value, and neither works in the other browser
    other = web.csrf()
    assert other not in (first, pre_session)
    r = browser.post("/sign-out", data={"csrf": other}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(browser) == "УК «Тест»"
    r = web.client.post("/sign-out", data={"csrf": first}, follow_redirects=False)
    assert r.status_code == 403 and _signed_in_as(web.client) == "УК «Тест»"

    # signing in again in the same browser with the same token replaces the value; the old one stops working
    assert sign_in(browser, web.token).status_code == 303
    rotated = csrf_of(browser.get("/applications").text)
    assert rotated not in (first, pre_session, other)
    for stale in (first, pre_session):
        r = browser.post("/sign-out", data={"csrf": stale}, follow_redirects=False)
        assert r.status_code == 403
    assert _signed_in_as(browser) == "УК «Тест»"
    r = browser.post("/sign-out", data={"csrf": rotated}, follow_redirects=False)
    assert r.status_code == 303 and _signed_in_as(browser) is None
    assert _signed_in_as(web.client) == "УК «Тест»"  # the other browser's session is its own


def test_cookies_of_sign_in_are_http_only_and_same_site(tmp_path):
    web = web_client(tmp_path)
    client = _fresh(web)
    r = client.get("/sign-in")
    assert "compliance_browser=" in r.headers["set-cookie"]
    r = sign_in(client, web.token)
    cookies = r.headers.get_list("set-cookie")
    assert {c.split("=", 1)[0] for c in cookies} == {"compliance_session", "compliance_browser"}
    for cookie in cookies:
        assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
