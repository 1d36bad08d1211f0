# The two commands: `make run` (portal with demo data on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
FEATURES := $(patsubst portal/%/,%,$(sort $(dir $(wildcard portal/*/__init__.py))))

.PHONY: run test lint lock install install-dev translations translations-update browser bench screenshots clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# What runs the portal (requirements.txt), and on top what tests and checks it (requirements-dev.txt);
# both locked from their .in files by `make lock`.
$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip check
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip check
	touch $@

install: $(VENV)/.installed translations

install-dev: $(VENV)/.installed-dev translations

LOCK := $(BIN)/pip-compile --quiet --strip-extras --no-header --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: $(VENV)/.installed-dev
	$(LOCK) -o requirements.txt requirements.in
	$(LOCK) -o requirements-dev.txt requirements-dev.in

# Compiled catalogues are build output, made from the .po files that changed (so that test runs
# started side by side never rewrite a catalogue another is reading).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard portal/*/translations/*/LC_MESSAGES/messages.po))
translations: $(MO_FILES)

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# Re-extract every feature's strings into its own catalogue (run after changing user-facing text).
translations-update: $(VENV)/.installed
	@mkdir -p build
	@for f in $(FEATURES); do \
	  $(BIN)/pybabel extract -F babel.cfg -k _l -o build/$$f.pot portal/$$f || exit 1; \
	  if [ -f portal/$$f/translations/ru/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i build/$$f.pot -d portal/$$f/translations -l ru; \
	  elif grep -q msgid build/$$f.pot && [ $$(grep -c '^msgid ' build/$$f.pot) -gt 1 ]; then \
	    $(BIN)/pybabel init -i build/$$f.pot -d portal/$$f/translations -l ru; \
	  fi; \
	done

# The worker (mail outbox and periodic jobs) runs beside the server and stops with it.
run: install
	$(FLASK) db upgrade
	$(FLASK) portal seed-demo
	$(FLASK) portal worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Browser tests drive Debian's Chromium; install it when missing (needs root, as on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium) \
	  || echo "Chromium is not installed and could not be installed: browser tests will be skipped."

test: install-dev browser
	$(BIN)/python -m pytest --durations=15 $(PYTEST_ARGS)

# Lint and formatting (ruff) and the package layers (import-linter, .importlinter).
lint: install-dev
	$(BIN)/ruff check portal tests bench tools migrations config.py wsgi.py
	$(BIN)/ruff format --check portal tests bench tools migrations config.py wsgi.py
	$(BIN)/lint-imports

# The README's pictures (docs/screenshots/): the demo data in a temporary SQLite database, shot with Chromium.
screenshots: install-dev browser
	$(BIN)/python -m tools.screenshots

bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache
