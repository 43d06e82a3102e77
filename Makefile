# The two commands of the README:
#   make app    install what is missing, then serve the app on data/sample and the champion model
#               on 127.0.0.1 only (HOST=0.0.0.0 opens it to the network, PORT=8601 moves it)
#   make test   install what is missing (including Debian's chromium for browser tests, postgresql
#               for the store and ingestion tests and a Java runtime for Spark), then run every test
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp
PORT   ?= 8501
HOST   ?= 127.0.0.1
API_PORT ?= 8000
WORKERS  ?= 1
PYTEST_ARGS ?=

.PHONY: app api test install browser postgres java lint bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; run with PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e '.[test]' || $(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# apt-get install the Debian package $(1) unless the check $(2) succeeds (with sudo when not root)
apt_ensure = @$(2) >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(1) >/dev/null; }

# Debian's chromium for Playwright (the bundled browser download is not used)
browser:
	$(call apt_ensure,chromium,command -v chromium)

# Debian's PostgreSQL server binaries: the store tests start a throwaway server of their own
postgres:
	$(call apt_ensure,postgresql,ls /usr/lib/postgresql/*/bin/initdb)

# Debian's Java runtime for Spark local mode (the ingestion tests run the aggregation on Spark too)
java:
	$(call apt_ensure,default-jre-headless,command -v java)

app: $(STAMP)
	$(BIN)/streamlit run app.py --server.address $(HOST) --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# the HTTP API (cxroi serve) on 127.0.0.1 only unless sign-in is configured (HOST=0.0.0.0, API_PORT, WORKERS)
api: $(STAMP)
	$(BIN)/cxroi serve --host $(HOST) --port $(API_PORT) --workers $(WORKERS)

test: $(STAMP) browser postgres java
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check cxroi tests benchmarks app.py

bench: $(STAMP) browser
	@missed=""; for script in benchmarks/bench_*.py; do echo "== $$script"; \
	  $(BIN)/python $$script || missed="$$missed $$script"; done; \
	  if [ -n "$$missed" ]; then echo "goals missed in:$$missed"; exit 1; fi

clean:
	rm -rf $(VENV) test-output .pytest_cache
