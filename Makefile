# beluga-secrets — the README's two commands (`make run`, `make test`) and a few for developers.
# Each target installs what is missing first, so a fresh machine needs nothing but this file.

SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
VENV := .venv
APT_PACKAGES := libcurl4-openssl-dev libsodium-dev pkg-config
# apt-get needs root: use sudo unless we already are root.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test deps system-deps python-deps build build-tests format clean

## run: install what is missing, build, and run the demonstration on the embedded emulator.
run: system-deps build
	@scripts/demo.sh "$$($(SWIFT) build --show-bin-path)"

## test: install what is missing, build, and run every test (Swift and Python).
test: deps build-tests
	$(SWIFT) test --skip-build
	BELUGA_BIN_DIR="$$($(SWIFT) build --show-bin-path)" $(VENV)/bin/python -m pytest -q Tests/python

deps: system-deps python-deps

system-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi

python-deps: $(VENV)/.installed

$(VENV)/.installed: Tests/python/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r Tests/python/requirements.txt
	touch $@

build: system-deps
	$(SWIFT) build

build-tests: system-deps
	$(SWIFT) build --build-tests

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

clean:
	rm -rf .build $(VENV)
