# The two commands of the README:
#   make up    — install system packages, build devctl and devctld once, install them, bring up the example project
#   make test  — install system packages and run the whole test suite (what CI runs)
CARGO ?= cargo
PREFIX ?= $(HOME)/.cargo
EXAMPLE ?= examples/webapp

.PHONY: up test setup install build lint man

setup:
	./.ci/setup-machine

# One release build of both binaries (the dependency tree is compiled once,
# with cargo's progress shown), then each binary is copied next to the other
# and renamed into place, so a running devctld keeps its old image.
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)

install: setup
	$(CARGO) build --release --locked -p devctl-ctl -p devctl-supervisord
	mkdir -p $(PREFIX)/bin
	for b in devctl devctld; do \
	  cp $(TARGET_DIR)/release/$$b $(PREFIX)/bin/.$$b.new && \
	  chmod 0755 $(PREFIX)/bin/.$$b.new && \
	  mv -f $(PREFIX)/bin/.$$b.new $(PREFIX)/bin/$$b || exit 1; \
	done

up: install
	cd $(EXAMPLE) && PATH="$(PREFIX)/bin:$$PATH" devctl up && PATH="$(PREFIX)/bin:$$PATH" devctl status

build:
	$(CARGO) build --workspace --bins --locked

test: setup build
	$(CARGO) nextest run --workspace --locked --profile ci

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

man:
	$(CARGO) run -q -p devctl-ctl -- man > man/devctl.1
