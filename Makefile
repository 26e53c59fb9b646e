# Two commands a fresh machine needs: `make demo` and `make test`.
# Each sets up .venv from nothing (once; later runs reuse it) and then runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format clean chromium

# torch==2.13.0 goes first: it is the CPU build that lies on this machine's disk. Asking for the
# package's range before it is installed would pull a multi-GB CUDA build from the registry.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/learngpt demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The playground's test drives Debian's Chromium with Playwright (Playwright's own browser
# download is not used); install it when it is missing and we may (root), else say how.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "make test needs Chromium: sudo apt-get install chromium" >&2; exit 1; }

test: lint chromium
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) runs
