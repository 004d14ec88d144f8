# watchfolder: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# What the build needs, and what the tests use as independent oracles and peers.
APT_BUILD := pkg-config libavcodec-dev libavformat-dev libavfilter-dev libavutil-dev libswscale-dev \
             libswresample-dev libsqlite3-dev libcurl4-openssl-dev
APT_TEST  := ffmpeg openssh-server openssh-client samba smbclient openssl chromium
PIP_TEST  := moto[server]==5.2.1 awscli==1.45.11 standardwebhooks==1.1.0 prometheus_client websocket-client

SWIFT ?= swift
CONFIG ?= var/config.toml
BIN_RELEASE := .build/release/watchfolder

.PHONY: setup setup-test build release run test bench clean

# Installs only what is missing; silent when everything is there.
setup:
	@scripts/ensure-apt $(APT_BUILD)

setup-test: setup
	@scripts/ensure-apt $(APT_TEST)
	@scripts/ensure-pip $(PIP_TEST)

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

$(CONFIG):
	@scripts/default-config $(CONFIG)

run: release $(CONFIG)
	@echo "watchfolder: drop videos into $(CURDIR)/var/inbox; packages appear in $(CURDIR)/var/outbox (Ctrl-C stops)"
	$(BIN_RELEASE) run --config $(CONFIG)

test: setup-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: setup-test release
	@scripts/ensure-apt time
	@for b in bench/*.sh; do echo "== $$b"; bash "$$b" || exit 1; done

clean:
	rm -rf .build var
