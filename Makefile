# make run  : create .venv, install, build the demo database if missing, start the app
# make test : same setup (plus Chromium for the browser tests and PostgreSQL for the store test), then the whole suite
# make test-fast : the suite without the browser tests and the slow ones, for daily work
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/demo.ducklake
PORT ?= 8501
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast setup browser postgres fonts demo bench clean

setup: $(STAMP)

$(STAMP): requirements.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

$(DB): | $(STAMP)
	EXAMDASH_DB=$(DB) $(BIN)/python -m examdash demo

demo: $(STAMP)
	rm -rf $(DB) $(DB)-wal $(DB)-shm $(DB).lock $(DB).files $(DB)-app.sqlite*
	EXAMDASH_DB=$(DB) $(BIN)/python -m examdash demo

run: $(STAMP) $(DB) fonts
	@EXAMDASH_DB=$(DB) $(BIN)/python -m examdash users demo-logins
	EXAMDASH_DB=$(DB) $(BIN)/streamlit run serve.py --server.port $(PORT) --server.headless true

browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "Installing chromium and fonts-noto-cjk for the browser tests"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi
	@command -v chromium >/dev/null || { echo "chromium is required for the browser tests"; exit 1; }

# The printable exam-day materials (PDF) embed a Chinese font: Debian's fonts-noto-cjk (the browser tests
# need it too). `make run` goes on without it (every page works, the PDF buttons say what is missing).
fonts:
	@if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		echo "Installing fonts-noto-cjk for the printable materials"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-noto-cjk >/dev/null \
			|| echo "fonts-noto-cjk could not be installed: the PDF materials stay unavailable until it is"; \
	fi

# The store's PostgreSQL-catalog test starts its own server from Debian's postgresql package.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "Installing postgresql for the PostgreSQL-catalog test"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; \
	fi
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "postgresql is required for the store tests"; exit 1; }

test: $(STAMP) $(DB) browser postgres
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) $(DB) fonts
	$(BIN)/python -m pytest -q -m "not browser and not slow"

bench: $(STAMP)
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/query_bench.py
	$(BIN)/python bench/fee_bench.py

clean:
	rm -rf $(VENV) $(DB) $(DB)-wal $(DB)-shm $(DB).lock $(DB).files $(DB)-app.sqlite* data/demo_imports data/demo_exports test-output
