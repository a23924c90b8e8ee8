VENV ?= .venv
# Each step's prerequisites run side by side (the installs wait mostly on the network).
MAKEFLAGS += --jobs=4
# Compiled modules are kept between runs: each test process and live server loads them instead of
# compiling the sources again (an environment may turn that off; this build turns it back on).
unexport PYTHONDONTWRITEBYTECODE
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_STAMP := node_modules/.installed
VENDOR_STAMP := static/vendor/.copied

.PHONY: install wheel test demo test-deps node-tools vendor bench bench-home bench-timeline load-hostile clean

# The venv gets today's pip and the setuptools the builds need in one pip run: the machine's own pip
# installs them (`--python`, pip 22.3 or later), else the venv's bundled pip does (ensurepip, slower).
# A venv left without its pip is removed, so the next `make` makes it again.
$(PY):
	python3 -m venv --without-pip $(VENV)
	python3 -m pip --python $(PY) install --quiet --upgrade pip 'setuptools>=68' 2>/dev/null \
	  || { $(PY) -m ensurepip --upgrade >/dev/null && $(PY) -m pip install --quiet --upgrade pip 'setuptools>=68'; } \
	  || { rm -rf $(VENV); exit 1; }

# The portal and the sandbox, two distributions of this repository, both editable. They build with the
# venv's own setuptools (their build-system's), not in a fresh build environment each. pip leaves the
# compiling of the installed modules to compileall, which uses both cores.
$(STAMP): pyproject.toml setup.py sandbox/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --no-compile --no-build-isolation -e '.[test]' -e ./sandbox
	$(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null
	touch $(STAMP)

install: $(STAMP) $(VENDOR_STAMP)

# The portal's wheel in dist/, for a lab to install (docs/deploy.md); the sandbox is not in it.
wheel: install
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here),
# Redis for the test of several portal hosts sharing their sessions, Node.js for the unit tests of
# the browser modules, npm for axe-core (the accessibility checks of the browser tests), and nginx for
# the tests of the deployment behind it (docs/nginx-portal.conf; Debian puts it in /usr/sbin).
test-deps: node-tools
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

# Node.js and npm, for the browser libraries the portal serves (a fresh machine may have neither).
node-tools:
	@missing=""; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the browser libraries:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The npm packages (package.json: uPlot, served by the pages; axe-core, for the tests), exactly as
# package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json | node-tools
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The browser libraries package.json pins (uPlot: the timeline; fflate: reading a .zip in the page),
# copied into the git-ignored static/vendor/ with their licences (scripts/vendor_static.py lists the files).
$(VENDOR_STAMP): $(NODE_STAMP) scripts/vendor_static.py | $(PY)
	$(PY) scripts/vendor_static.py
	touch $(VENDOR_STAMP)

vendor: $(VENDOR_STAMP)

# pytest, and beside it the Node unit tests of static/ (their report follows pytest's: its summary, or all
# of it when one failed). Both run; either failing fails the target.
test: install test-deps $(NODE_STAMP) $(VENDOR_STAMP)
	@node_log=$$(mktemp); node --test --test-reporter=spec tests/js/ >$$node_log 2>&1 & node=$$!; \
	status=0; $(PY) -m pytest -q || status=$$?; \
	if wait $$node; then echo "node --test tests/js/"; tail -n 8 $$node_log; \
	else status=1; echo "node --test tests/js/ failed:"; cat $$node_log; fi; \
	rm -f $$node_log; exit $$status

demo: install $(VENDOR_STAMP)
	$(PY) scripts/demo.py

bench: install
	$(PY) benchmarks/run.py
	$(PY) benchmarks/home_page.py

bench-home: install
	$(PY) benchmarks/home_page.py

# The timeline in Debian's Chromium: the MYO-shaped page drawn, and a stream of a million samples x 8.
bench-timeline: install test-deps
	$(PY) benchmarks/timeline.py

# The load script's 20 honest uploaders through nginx (docs/nginx-portal.conf) in front of gunicorn,
# with slow and anonymous attackers at the same time (about a minute and a half; options: --help).
load-hostile: install test-deps
	$(PY) benchmarks/load.py --hostile

clean:
	rm -rf $(VENV) instance build dist *.egg-info sandbox/build sandbox/*.egg-info node_modules static/vendor
