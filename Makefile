# Two entry points for a fresh machine (Python 3.11):
#   make demo   set up .venv and run the main job on the bundled data
#   make test   set up .venv and run the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test seeds clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zoning demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Regenerate the bundled synthetic layers (deterministic; same output every time).
seeds: $(STAMP)
	$(BIN)/zoning seeds generate --out seeds --overwrite

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
