# Two commands for a newcomer: `make demo` and `make test`. Both set up .venv on first use.
# Python 3.11 or 3.12 is required: durable-rules 2.0.28 does not load on 3.13+.
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FIXTURE := fixtures/ip794-created-gaps.yaml

.PHONY: demo test setup clean coverage serve bench browser pdf-converter doc-pages test-postgres

# pip -qq: errors only — no warnings about this machine's pip configuration (e.g. an unreachable extra index)
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Нужен Python 3.11 или 3.12 (durable-rules 2.0.28 не работает на 3.13+): установите его и повторите."; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	@$(BIN)/compliance check $(FIXTURE); \
	  echo "Код завершения: $$? (0 — соответствует, 1 — есть несоответствия или данных недостаточно, 2 — ошибка во входных данных, 3 — автоматические проверки пройдены, требования ждут оценки эксперта, 4 — внутренняя ошибка)"
	@$(BIN)/compliance check $(FIXTURE) --format json --output out/ip794-created-gaps.json; true
	@$(BIN)/compliance check $(FIXTURE) --format md --output out/ip794-created-gaps.md; true

# Debian's Chromium for the browser tests (tests/test_browser.py), installed when it is absent and COMPLIANCE_CHROMIUM
# does not name another browser. Never fails `make test`: without a browser those tests are skipped.
DEBIAN_CHROMIUM := /usr/bin/chromium
browser:
	@if [ -n "$$COMPLIANCE_CHROMIUM" ] || [ -x $(DEBIAN_CHROMIUM) ]; then exit 0; fi; \
	skip="браузерные тесты будут пропущены"; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "Chromium не установлен: нет apt-get (нужен Debian или Ubuntu) — $$skip."; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "Chromium не установлен: для apt-get нужны права root или sudo без пароля — $$skip."; exit 0; fi; \
	apt="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120"; \
	echo "Устанавливаю Chromium для браузерных тестов: apt-get install -y chromium chromium-driver"; \
	$$apt install -y chromium chromium-driver || { \
	  echo "Обновляю списки пакетов (apt-get update) и пробую ещё раз"; \
	  $$apt update && $$apt install -y chromium chromium-driver; } || true; \
	if [ ! -x $(DEBIAN_CHROMIUM) ]; then echo "Chromium не установлен: apt-get не смог установить пакеты chromium и \
	chromium-driver (нет сети или таких пакетов) — $$skip."; fi

# LibreOffice for the PDF documents (compliance/pdf.py) and their tests (tests/test_pdf.py), with metric-compatible
# Liberation fonts for Times New Roman and poppler-utils (pdftoppm, for make doc-pages), installed like Chromium when
# absent and COMPLIANCE_SOFFICE does not name another converter. Never fails `make test`: without it the PDF tests
# are skipped.
PDF_PACKAGES := libreoffice-writer-nogui fonts-liberation2 poppler-utils
pdf-converter:
	@if [ -n "$$COMPLIANCE_SOFFICE" ] || command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1; \
	then exit 0; fi; \
	skip="проверки PDF будут пропущены"; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "LibreOffice не установлен: нет apt-get (нужен Debian или Ubuntu) — $$skip."; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "LibreOffice не установлен: для apt-get нужны права root или sudo без пароля — $$skip."; exit 0; fi; \
	apt="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=120"; \
	echo "Устанавливаю LibreOffice для документов PDF: apt-get install -y --no-install-recommends $(PDF_PACKAGES)"; \
	$$apt install -y --no-install-recommends $(PDF_PACKAGES) || { \
	  echo "Обновляю списки пакетов (apt-get update) и пробую ещё раз"; \
	  $$apt update && $$apt install -y --no-install-recommends $(PDF_PACKAGES); } || true; \
	if ! command -v soffice >/dev/null 2>&1; then echo "LibreOffice не установлен: apt-get не смог установить \
	пакеты $(PDF_PACKAGES) (нет сети или таких пакетов) — $$skip."; fi

# Page images of the documents for the README (docs/*.png): a gap report, a matrix, a GOST conclusion and a catalog
# review document made from the fixtures, converted to PDF and the chosen page rendered to PNG.
doc-pages: $(STAMP) pdf-converter
	$(BIN)/python tools/doc_pages.py

test: $(STAMP) browser pdf-converter
	$(BIN)/compliance catalog --check
	$(BIN)/python -m pytest -q

# The service, web and crash tests on a throwaway PostgreSQL server (besides SQLite): .ci/postgres.py installs the
# distribution's server with apt-get when absent (root or passwordless sudo), starts a cluster in a temporary directory
# on a free port, or uses the server of COMPLIANCE_TEST_POSTGRES_URL, and stops it at the end. Fails, saying why, when
# PostgreSQL cannot be installed or started; `make test` never needs it.
PG_STAMP := $(VENV)/.postgres-stamp
PG_TESTS := tests/test_api.py tests/test_api_fast_path.py tests/test_api_workers.py tests/test_crash.py \
	tests/test_refusals.py tests/test_storage_values.py tests/test_races.py tests/test_replay_catalog.py \
	tests/test_websec.py tests/test_jobs.py tests/test_jobs_redis.py tests/test_jobs_impact.py \
	$(wildcard tests/test_web_*.py)
$(PG_STAMP): $(STAMP)
	$(BIN)/python -m pip install -qq -e '.[test,postgres]'
	@touch $(PG_STAMP)

test-postgres: $(PG_STAMP)
	$(BIN)/python .ci/postgres.py $(BIN)/python -m pytest -q $(PG_TESTS)

# Speed, memory and correctness figures (bench/results.json); BENCH_SCALE=0.05 for a quick look.
bench: $(STAMP)
	$(BIN)/python bench/run.py

# The web service on SQLite (./compliance.db unless COMPLIANCE_DATABASE_URL is set); HOST/PORT override the address.
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ORG ?= Демонстрационная управляющая компания
serve: $(STAMP)
	$(BIN)/compliance serve --host $(HOST) --port $(PORT) --demo-org "$(DEMO_ORG)"

coverage: $(STAMP)
	$(BIN)/python ../shared/tools/catalog_coverage.py --project .

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
