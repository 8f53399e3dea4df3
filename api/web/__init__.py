"""Web pages of the service (server-rendered Jinja2, plain forms, no front-end build), all text in Russian.

The pages use the same `Service` as the JSON routes; the browser signs in with the organisation's token, which is
kept in an HttpOnly cookie and checked on every request exactly like a Bearer token. Every form carries a CSRF field.
Modules: `common` (templates, sign-in, CSRF, errors as pages), `pages` (sign-in, list, application, upload),
`editor` (the application form), `results` (checks, reports, downloads, diff), `assessment` (GOST judgements),
`organisation` (the details documents show), `jobs` (background jobs: progress, cancel, the re-check's result), `impact` (a draft amendment's impact: the form,
the result, the files).
"""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import assessment, batch, catalog, common, deadlines, editor, impact, jobs, organisation, pages, results


def install_web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=common.STATIC), name="static")
    common.install(app)
    # editor first: its GET /applications/new must be matched before pages' GET /applications/{app_id}; batch
    # before results: its GET /checks/batch must be matched before GET /checks/{check_id}
    for module in (editor, pages, batch, results, assessment, catalog, organisation, deadlines, impact, jobs):
        app.include_router(module.router)
