# Two commands for a newcomer: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= $(shell command -v python3.12 || command -v python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup clean coverage catalog-check

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v=sys.version_info[:2]; sys.exit(0 if (3,11)<=v<(3,13) else "Нужен Python 3.11 или 3.12 (durable-rules 2.0.28 не работает на 3.13+), найден %d.%d" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	-$(BIN)/compliance check fixtures/ip794-operating-conforming.yaml --format text
	-$(BIN)/compliance check fixtures/ip794-created-gaps.yaml --format text --output out/ip794-created-gaps.txt
	$(BIN)/compliance check fixtures/ip794-created-gaps.yaml --format json --output out/ip794-created-gaps.json; \
	  echo "Код завершения: $$? (0 — соответствует, 1 — есть несоответствия или данных недостаточно, 2 — ошибка во входных данных)"
	@echo "JSON-отчёт: out/ip794-created-gaps.json"

test: $(STAMP)
	$(BIN)/compliance catalog --check
	$(BIN)/python -m pytest -q

coverage: $(STAMP)
	$(BIN)/python ../shared/tools/catalog_coverage.py --project .

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
