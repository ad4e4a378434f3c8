# Two commands do all set-up on a fresh Debian machine:
#   make demo   - the web UI on a sandbox Dokku (simulator) with sample apps
#   make test   - every test (ruff, unit, integration, end-to-end, browser)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages: the demo needs only what it runs (bubblewrap confines the
# simulated containers' processes); the tests add the browser and linters.
DEMO_DEBS := bubblewrap git openssl procps
TEST_DEBS := $(DEMO_DEBS) chromium shellcheck nginx sudo systemd python3-venv openssh-server

.PHONY: test demo lint deps test-debs demo-debs clean dokku-plugin vendor bench

# pruvon-testing (testing/: the Dokku simulator, the pytest plugin) is its own
# distribution; tests, the demo and the benchmarks need it beside pruvon
$(STAMP): pyproject.toml testing/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[web,dev]' -e ./testing
	touch $(STAMP)

deps: $(STAMP) test-debs

# Debian packages, installed only when running as root and missing, so
# developers without root are not blocked.  `make demo` installs DEMO_DEBS
# only: nothing test-only, and no apt lock held while `make test` runs.
test-debs: DEBS = $(TEST_DEBS)
demo-debs: DEBS = $(DEMO_DEBS)
test-debs demo-debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "warning: missing Debian packages:$$missing (run as root to install)"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

# as root, `test-debs` installed chromium: a missing browser then fails instead of skipping
test: deps lint
	PRUVON_REQUIRE_BROWSER=$$( [ "$$(id -u)" = 0 ] && echo 1 ) $(BIN)/python -m pytest -q --durations=25

demo: $(STAMP) demo-debs
	$(BIN)/pruvon serve --demo

bench: deps
	$(BIN)/python -m benchmarks

# an installable Dokku plugin: build/dokku-plugin/ (git tree) + build/pruvon-dokku-plugin-VERSION.tar.gz
dokku-plugin:
	scripts/build-dokku-plugin build

# refresh the vendored front-end assets (htmx, xterm.js, …) from the npm registry
vendor:
	scripts/vendor-assets

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
