# Two entry points for a fresh machine (Python 3.11):
#   make demo   set up .venv and run the main job on the bundled data
#   make test   set up .venv and run the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test seeds clean browser office serve

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zoning demo

# The map tests open the maps in Debian's headless Chromium, and the web page test drives it
# with Selenium through Debian's chromedriver; install both when missing and we may (root with
# apt-get, as on CI); otherwise those tests say why they skip.
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	   chromium-driver fonts-noto-cjk >/dev/null) \
	  || echo "chromium/chromedriver not installed: browser tests will be skipped"; }

# The review page and API on the bundled regions: http://127.0.0.1:8000/
serve: $(STAMP)
	$(BIN)/zoning serve --open

# PDF reports (zoning report, screen --report) convert Word to PDF with LibreOffice; the
# report tests render them.  Installed like chromium; without it reports stay .docx only.
office:
	@command -v soffice >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	   libreoffice-writer-nogui poppler-utils fonts-noto-cjk >/dev/null) \
	  || echo "LibreOffice not installed: reports are written as .docx only, PDF tests skip"; }

# Gates first (lint with complexity limits, types on engine/, io/, project.py, screen.py),
# then the suite with its doctests.  The package is byte-compiled first: the suite starts
# a dozen Python processes (test workers, the CLI, the server, dask workers), and where
# PYTHONDONTWRITEBYTECODE is set each of them would compile it again.
test: $(STAMP) browser office
	$(BIN)/ruff check zoning tests bench
	$(BIN)/mypy
	$(BIN)/python -m compileall -q zoning >/dev/null
	$(BIN)/python -m pytest -q

# Regenerate the bundled synthetic layers (deterministic; same output every time).
seeds: $(STAMP)
	$(BIN)/zoning seeds generate --out seeds --overwrite

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
