# beluga-secrets — the README's two commands (`make run`, `make test`) and a few for developers.
# Each target installs what is missing first, so a fresh machine needs nothing but this file.

SHELL := /bin/bash
SWIFT ?= swift
PYTHON ?= python3
VENV := .venv
APT_PACKAGES := libcurl4-openssl-dev libsodium-dev libyaml-dev pkg-config
# Only the tests need these (gdb watches how a process exits; debootstrap assembles the image's
# runtime stage, which the tests run without a container engine, and binutils' strip strips the
# binary as the build stage does).
TEST_APT_PACKAGES := gdb debootstrap binutils
# The emulator checks write bodies against the Kubernetes API's schemas, which the test venv
# provides (PyPI kubernetes-validate, Tests/python/requirements.txt); without the venv it serves
# without them (docs/kube-emulator.md).
export KUBE_EMULATOR_SCHEMAS := $(CURDIR)/$(VENV)
# apt-get needs root: use sudo unless we already are root.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test deps system-deps python-deps build build-tests release bench bench-deps man format clean \
	fuzz fuzz-ci test-sanitize

## run: install what is missing, build, and run the demonstration on the embedded emulator.
run: system-deps build
	@scripts/demo.sh "$$($(SWIFT) build --show-bin-path)"

## test: install what is missing, build, and run every test (Swift and Python).
## The Swift suites run at most TEST_WIDTH tests at once: each starts emulators and processes,
## and hundreds at once on two cores starve the in-process emulators past their clients' limits.
TEST_WIDTH ?= 8
test: deps build-tests release
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) BELUGA_RELEASE_BIN="$(RELEASE_BIN)" \
		$(SWIFT) test --skip-build
	BELUGA_BIN_DIR="$$($(SWIFT) build --show-bin-path)" $(VENV)/bin/python -m pytest -q Tests/python
	env -u KUBECONFIG scripts/e2e.sh "$$($(SWIFT) build --show-bin-path)"
	$(MAKE) fuzz-ci
	BELUGA_RELIABILITY=1 $(SWIFT) test --skip-build --filter ReliabilityTests

## e2e: end-to-end scenarios in a throwaway namespace of the cluster KUBECONFIG names, or of the
## in-repo emulator when KUBECONFIG is unset (docs/e2e.md).
.PHONY: e2e
e2e: python-deps build
	scripts/e2e.sh "$$($(SWIFT) build --show-bin-path)"

## reliability: the reliability suite with the bounded counts of make test (docs/reliability.md);
## on its own, after the other suites, since it starts hundreds of processes.
## soak: the same scenarios with the issue's full counts (BELUGA_SOAK_ROUNDS=200 by default).
.PHONY: reliability soak
SOAK_ROUNDS ?= 200
reliability: build-tests
	BELUGA_RELIABILITY=1 $(SWIFT) test --skip-build --filter ReliabilityTests

soak: build-tests
	BELUGA_SOAK_ROUNDS=$(SOAK_ROUNDS) $(SWIFT) test --skip-build --filter ReliabilityTests

deps: system-deps python-deps
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(TEST_APT_PACKAGES)"

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

## release: the release binary as the Dockerfile builds it (static Swift runtime), in the scratch
## path .build-release that the footprint tests, the Python release-binary test and bench share.
RELEASE_BUILD := $(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release
RELEASE_BIN = $(CURDIR)/.build-release/release/beluga-secrets
release: system-deps
	$(RELEASE_BUILD) --product beluga-secrets

## bench: measure beluga-secrets against kubectl and libsodium on release builds: prints one table
## and writes it, with the machine and the date, to bench/RESULTS.md (BENCH_QUICK=1: a short run).
# The in-process benchmarks are the separate package Benchmarks/, which `swift package benchmark`
# builds there; `make test` never builds it.
bench: bench-deps python-deps release
	$(RELEASE_BUILD) --product kube-emulator
	$(VENV)/bin/python bench/run.py --bin "$$($(RELEASE_BUILD) --show-bin-path)"

bench-deps: system-deps
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="hyperfine debootstrap binutils"

## man: regenerate the manual pages in man/ from the command definitions.
# argument-parser's generate-manual plugin (`swift package generate-manual`) runs its generator
# on every executable of the package; here the same generator runs on beluga-secrets alone, so
# the pages do not depend on other executables. The date is that of the last change to the
# commands. man/command-definitions.json records what the pages were made from; a test compares
# it with the built binary and fails when the pages are out of date.
MAN_DATE ?= $(shell git log -1 --format=%cs -- Sources/beluga-secrets 2>/dev/null | grep . || date +%F)
man: build
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --help >/dev/null
	@bin="$$($(SWIFT) build --show-bin-path)"; \
	mkdir -p man && rm -f man/*.1; \
	"$$bin/generate-manual-tool" "$$bin/beluga-secrets" --multi-page --date $(MAN_DATE) --output-directory man && \
	"$$bin/beluga-secrets" --experimental-dump-help > man/command-definitions.json && \
	ls man

## fuzz: fuzz the envelope parser, the kubeconfig loader, the watch-event decoder and the
# agent's planning on a namespace's objects (agent-plan) with libFuzzer and the address
# sanitizer, FUZZ_SECONDS each (FUZZ_TARGETS to choose); inputs that break one are saved in
# .build-fuzz/crashes and fail the run (docs/fuzzing.md).
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?=
fuzz: system-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) Fuzz/run.sh $(FUZZ_TARGETS)

## fuzz-ci: the short bounded pass `make test` runs: 15 s per target after the build (a clean
# .build-fuzz builds in about 7 minutes on 2 busy cores; the four targets then take 80 s).
fuzz-ci: system-deps
	FUZZ_SECONDS=15 SWIFT=$(SWIFT) Fuzz/run.sh

## test-sanitize: the Swift test suite built and run with the address sanitizer, then with the
# thread sanitizer (.build-asan, .build-tsan).
test-sanitize: system-deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=suppressions=$(CURDIR)/Tests/tsan-suppressions.txt \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

format:
	$(SWIFT) format --in-place --recursive Package.swift Sources Tests

clean:
	rm -rf .build $(VENV)
