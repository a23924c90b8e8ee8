VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_STAMP := node_modules/.installed

.PHONY: install wheel test demo test-deps bench bench-home load-hostile clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The portal and the sandbox, two distributions of this repository, both editable.
$(STAMP): pyproject.toml setup.py sandbox/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]' -e ./sandbox
	touch $(STAMP)

install: $(STAMP)

# The portal's wheel in dist/, for a lab to install (docs/deploy.md); the sandbox is not in it.
wheel: install
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here),
# Redis for the test of several portal hosts sharing their sessions, Node.js for the unit tests of
# the browser modules, npm for axe-core (the accessibility checks of the browser tests), and nginx for
# the tests of the deployment behind it (docs/nginx-portal.conf; Debian puts it in /usr/sbin).
test-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The npm packages of the tests (package.json: axe-core), exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json | test-deps
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# pytest, then the Node unit tests of static/ (both run; either failing fails the target).
test: install test-deps $(NODE_STAMP)
	status=0; $(PY) -m pytest -q || status=$$?; node --test tests/js/ || status=1; exit $$status

demo: install
	$(PY) scripts/demo.py

bench: install
	$(PY) benchmarks/run.py
	$(PY) benchmarks/home_page.py

bench-home: install
	$(PY) benchmarks/home_page.py

# The load script's 20 honest uploaders through nginx (docs/nginx-portal.conf) in front of gunicorn,
# with slow and anonymous attackers at the same time (about a minute and a half; options: --help).
load-hostile: install test-deps
	$(PY) benchmarks/load.py --hostile

clean:
	rm -rf $(VENV) instance build dist *.egg-info sandbox/build sandbox/*.egg-info node_modules
