# bufferflags: `make test` (everything, cached) and `make bench` (the PEP's numbers).
#
# Stock interpreters: python3 plus every CPython 3.11-3.13 that pyenv knows.
# Each gets its own venv under build/venv/ with the shim installed (cffi
# compiles its extension there).  The patched interpreters come from
# cpython-patch/build.sh and run the package straight from shim/: in native
# mode it needs no extension.

SHELL := /bin/bash
ROOT := $(CURDIR)
BUILD := $(ROOT)/build
CPY := $(BUILD)/cpython
PYTEST_ARGS ?= -q
STOCK_PYTHONS := $(shell tools/stock-pythons.sh)
SHIM_SOURCES := $(wildcard shim/bufferflags/* shim/bufferflags/include/*) pyproject.toml setup.py LICENSE
VENV_STAMPS := $(foreach py,$(STOCK_PYTHONS),$(BUILD)/venv/$(notdir $(py))/.installed)
NATIVE_PYTHONS := $(CPY)/patched/bin/python3 $(CPY)/patched-ft/bin/python3
IMMUTABLE_PYTHON := $(CPY)/patched-immutable/bin/python3

.PHONY: test test-shim test-shim-sid sid-chroot test-native test-cpython check-pep native venvs demo bench stress refleak clean
.PHONY: native-immutable test-native-immutable
.PHONY: regrtest tsan peer-suites bench-pyperformance

test: test-shim test-shim-sid native test-native test-native-immutable test-cpython check-pep test-rust

venvs: $(VENV_STAMPS)

# One venv per stock interpreter, named by its version (build/venv/3.12.1/).
$(BUILD)/venv/%/.installed: $(SHIM_SOURCES)
	@py=$$(tools/stock-pythons.sh --path $*); \
	rm -rf $(BUILD)/venv/$*; \
	$$py -m venv $(BUILD)/venv/$* && \
	$(BUILD)/venv/$*/bin/python -m pip install -q --upgrade pip && \
	$(BUILD)/venv/$*/bin/python -m pip install -q '.[test,bench]' && \
	touch $@

test-shim: venvs
	@set -e; for stamp in $(VENV_STAMPS); do \
	  venv=$$(dirname $$stamp); \
	  echo "== shim on $$($$venv/bin/python -c 'import sys; print(sys.version.split()[0])')"; \
	  (cd $(BUILD) && $$venv/bin/python -m pytest $(PYTEST_ARGS) -p no:cacheprovider $(ROOT)/tests/conformance $(ROOT)/tests/shim $(ROOT)/tests/capi $(ROOT)/tests/stress); \
	done

# The same suites on CPython 3.14 and 3.15: Debian sid's interpreters in a
# chroot under build/sid-chroot (the host's glibc is too old for them), made
# once (about a minute here) and cached.  Where it cannot be made (not root,
# no debootstrap, no network) it prints a WARNING that 3.14/3.15 are NOT
# tested and goes on.
test-shim-sid:
	tools/sid-chroot.sh test $(PYTEST_ARGS)

sid-chroot:
	tools/sid-chroot.sh setup

# baseline-ft too: the differential fuzzer compares patched-ft against it.
native:
	cpython-patch/build.sh --ft
	cpython-patch/build.sh --only baseline-ft

test-native: native
	@set -e; for py in $(NATIVE_PYTHONS); do \
	  echo "== native on $$py"; \
	  (cd $(BUILD) && PYTHONPATH=$(ROOT)/shim $$py -m pytest $(PYTEST_ARGS) -p no:cacheprovider $(ROOT)/tests/conformance $(ROOT)/tests/native $(ROOT)/tests/capi $(ROOT)/tests/stress); \
	done

# The series up to its IMMUTABLE part alone (PyBUF_EXCLUSIVE is Part 2):
# 0x800 is an unknown bit there.  The same suites as test-native; the tests
# that need EXCLUSIVE are skipped, saying so (tests/conftest.py), and
# tests/conformance/test_immutable_only.py checks that every exclusive
# request fails closed.
native-immutable:
	cpython-patch/build.sh --only patched-immutable

test-native-immutable: native-immutable
	@echo "== native, IMMUTABLE only, on $(IMMUTABLE_PYTHON)"; \
	cd $(BUILD) && PYTHONPATH=$(ROOT)/shim $(IMMUTABLE_PYTHON) -m pytest $(PYTEST_ARGS) -p no:cacheprovider $(ROOT)/tests/conformance $(ROOT)/tests/native $(ROOT)/tests/capi $(ROOT)/tests/stress

test-cpython: native native-immutable
	cpython-patch/run-tests.sh

# The Rust consumer example (examples/rust, issue 18) on every stock venv and
# both patched interpreters: crates from Debian's librust-*-dev packages
# (crates.io is not needed), builds cached in build/rust; a WARNING that it is
# NOT tested where cargo or those packages cannot be had.
.PHONY: test-rust
test-rust: venvs native
	PYTEST_ARGS="$(PYTEST_ARGS)" tools/rust-example.sh test $(foreach s,$(VENV_STAMPS),$(dir $(s))bin/python) $(NATIVE_PYTHONS)

# Every number the PEP cites names its result key (bench/results/numbers.json);
# --self-test also checks that swapping two of them is caught.
check-pep:
	python3 tools/check_pep_numbers.py --self-test

demo: $(firstword $(VENV_STAMPS))
	$(BUILD)/venv/$(notdir $(firstword $(STOCK_PYTHONS)))/bin/python tools/demo.py

bench: venvs native
	bench/run.sh

# The standard CPython benchmark suite's bytes-heavy subset, baseline vs
# patched (bench/results/pyperformance-compare.md); long, not in `make bench`.
bench-pyperformance: native
	bench/pyperformance.sh

stress: venvs native
	tools/stress.sh

# The --with-pydebug build of the series and `python -m test -R 3:3` on it.
refleak:
	cpython-patch/build.sh --only patched-debug
	cpython-patch/refleak.sh

# Long comparisons of patched against baseline, not part of `make test`:
# CPython's whole test suite (build/regrtest/summary.md), the series under
# ThreadSanitizer (build/tsan/summary.md), real packages' own test suites
# (build/peer-suites/summary.md).  Each exits non-zero on a regression.
regrtest:
	cpython-patch/build.sh
	tools/regrtest.sh

tsan:
	cpython-patch/build.sh --only patched-tsan
	tools/tsan.sh

peer-suites:
	cpython-patch/build.sh
	tools/peer-suites.sh

clean:
	rm -rf $(BUILD)/venv $(BUILD)/sid-chroot/opt/venv
