# stronghold.ops: the two commands of README.md, and the pieces they are made of.
#   make demo   set up, bring up the lab, run the playbooks against it, show the report
#   make test   sanity, lint, unit, integration and molecule tests against the lab
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV ?= $(REPO)/.venv
PY := $(VENV)/bin/python
LAB_ROOT ?= /var/lib/stronghold-lab
COLLECTIONS := $(REPO)/.build/collections
# ansible-core 2.21 needs Python 3.12 on the controller; Debian 12's python3 is 3.11.
# The first candidate that really runs 3.12 (a pyenv shim on PATH may name an inactive version).
PYTHON312 ?= $(shell for c in $$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.12.*/bin/python 2>/dev/null | sort -rV) \
	$$(command -v python3.12 2>/dev/null) /usr/bin/python3.12 /usr/local/bin/python3.12; do \
	"$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo "$$c"; break; }; done)

export ANSIBLE_CONFIG := $(REPO)/ansible.cfg
export PATH := $(VENV)/bin:$(PATH)
export STRONGHOLD_LAB_ROOT := $(LAB_ROOT)
# What tests leave for CI to keep (the run report's screenshot from the browser test).
export STRONGHOLD_ARTIFACTS_DIR ?= $(REPO)/artifacts

.PHONY: help venv collection-link lab lab-down lab-status demo test test-loaded sanity lint units integration collection-install molecule bench

help:
	@echo "make demo      bring up the lab and run daily, weekly, monthly and rollback against it"
	@echo "make test      every test: sanity, ansible-lint, units, integration, molecule"
	@echo "make lab       bring up the local lab (idempotent); make lab-down removes it"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@if [ -z "$(PYTHON312)" ]; then echo "Python 3.12 not found (set PYTHON312=/path/to/python3.12)" >&2; exit 1; fi
	test -x $(PY) || $(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# Playbooks run from the checkout find stronghold.ops through this link (see ansible.cfg).
collection-link:
	@mkdir -p $(COLLECTIONS)/ansible_collections/stronghold
	@# Only when it is missing or wrong: ln -sfn removes the link before it makes the new one,
	@# and the lint suite runs this while the integration lane runs playbooks through the link.
	@[ "$$(readlink $(COLLECTIONS)/ansible_collections/stronghold/ops)" = "$(REPO)" ] || \
		ln -sfn $(REPO) $(COLLECTIONS)/ansible_collections/stronghold/ops

lab: venv
	LAB_PYTHON=$(PY) $(REPO)/lab/lab.sh up

lab-down:
	$(REPO)/lab/lab.sh down

lab-status:
	$(REPO)/lab/lab.sh status

demo: venv collection-link lab
	$(REPO)/tests/demo.sh

test: venv collection-link lab
	$(REPO)/tests/run-all.sh

# The same suites with two CPU-bound processes beside them (stress-ng), as on a busy CI machine.
test-loaded: venv collection-link lab
	$(REPO)/tests/loaded.sh

sanity: venv
	$(REPO)/tests/ansible-test.sh sanity

# Every linter runs even when an earlier one fails; the target fails when any did.
# tests/ansible-doc.sh: ansible-doc renders every module, filter and role entry point;
# tests/examples-lint.sh: every module's and filter's EXAMPLES pass syntax-check and ansible-lint.
# ruff reads ruff.toml; mypy reads mypy.ini and runs from $(COLLECTIONS) so that the
# ansible_collections.stronghold.ops imports resolve as they do for Ansible.
LINTERS := \
	"ruff check ." \
	"ruff format --check ." \
	"cd $(COLLECTIONS) && mypy --config-file $(REPO)/mypy.ini ansible_collections/stronghold/ops/plugins/module_utils/" \
	"ansible-lint" \
	"antsibull-changelog lint" \
	"tests/ansible-doc.sh" \
	"tests/examples-lint.sh"

lint: venv collection-link
	@failed=(); for linter in $(LINTERS); do \
		echo "--- $$linter"; \
		(cd $(REPO) && eval "$$linter") || failed+=("$$linter"); \
	done; \
	if [ $${#failed[@]} -gt 0 ]; then printf 'lint failed: %s\n' "$${failed[@]}" >&2; exit 1; fi

units: venv
	$(REPO)/tests/ansible-test.sh units

# The ansible-test targets, then the collection as built and installed from its tarball, with
# daily.yml run from there against the lab (both run; the target fails when either did).
COLLECTION_INSTALL := $(REPO)/tests/collection-install.sh -- -i $(REPO)/inventories/lab
integration: venv
	$(REPO)/tests/browser-deps.sh
	@mkdir -p $(STRONGHOLD_ARTIFACTS_DIR)
	@status=0; \
	echo "--- tests/ansible-test.sh integration"; \
	$(REPO)/tests/ansible-test.sh integration || status=1; \
	echo "--- $(COLLECTION_INSTALL)"; \
	$(COLLECTION_INSTALL) || status=1; \
	exit $$status

# Build the tarball, install it into a clean collections path, run stronghold.ops.daily against the lab.
collection-install: venv
	$(COLLECTION_INSTALL)

molecule: venv collection-link
	cd $(REPO) && $(REPO)/tests/molecule.sh

bench: venv collection-link lab
	$(PY) $(REPO)/bench/daily_health.py
