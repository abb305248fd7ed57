# The two commands of the README:
#   make up    — install system packages, build and install devctl, bring up the example project
#   make test  — install system packages and run the whole test suite (what CI runs)
CARGO ?= cargo
PREFIX ?= $(HOME)/.cargo
EXAMPLE ?= examples/webapp

.PHONY: up test setup install build lint man

setup:
	./.ci/setup-machine

install: setup
	$(CARGO) install --locked --root $(PREFIX) --path ctl
	$(CARGO) install --locked --root $(PREFIX) --path supervisord

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
