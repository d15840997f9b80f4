# `make run` sets up everything on a fresh clone and starts the demo stack; `make test` runs the suite;
# `make test-fast` runs the tests that need no worker and no model (the inner loop).
# `make bench` runs every benchmark (the 1M search build only with BENCH_1M=1); `make bench-smoke` proves each runs.
PY := .venv/bin/python
STAMP := .venv/.installed-$(shell cat requirements.txt requirements-dev.txt | md5sum | cut -c1-12)

.PHONY: run test test-fast lint format bench bench-smoke clean-data

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f .venv/.installed-* && touch $(STAMP)

run: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) -m config.stack

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not worker and not model"

bench: $(STAMP)
	$(PY) bench/run_all.py --out-dir var/bench-results

bench-smoke: $(STAMP)
	$(PY) bench/run_all.py --smoke --out-dir var/bench-smoke

lint: $(STAMP)
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports

format: $(STAMP)
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

clean-data:
	$(PY) -m config.embedded stop-all var ; rm -rf var/
