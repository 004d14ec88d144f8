# watchfolder: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# What the build needs, and what the tests use as independent oracles and peers
# (mesa-vulkan-drivers: a CPU Vulkan device, standing in for a GPU in the hardware-surface tests; strace: traces the
# daemon's fsyncs and renames, and kills it at a chosen system call; python3-fusepy: a FUSE share whose reads hang,
# for the untrusted-media tests).
APT_BUILD := pkg-config libavcodec-dev libavformat-dev libavfilter-dev libavutil-dev libswscale-dev \
             libswresample-dev libsqlite3-dev libcurl4-openssl-dev
APT_TEST  := ffmpeg python3-fusepy mesa-vulkan-drivers openssh-server openssh-client samba smbclient openssl chromium lintian systemd man-db strace
# `make deb`: debhelper builds the package, help2man its man page from --help, chrpath drops SwiftPM's RUNPATH.
APT_DEB   := debhelper help2man chrpath fakeroot dpkg-dev
PIP_TEST  := moto[server]==5.2.1 awscli==1.45.11 standardwebhooks==1.1.0 prometheus_client websocket-client

SWIFT ?= swift
CONFIG ?= var/config.toml
BIN_RELEASE := .build/release/watchfolder

.PHONY: setup setup-test build release run test bench clean deb

# Installs only what is missing; silent when everything is there.
setup:
	@scripts/ensure-apt $(APT_BUILD)

setup-test: setup
	@scripts/ensure-apt $(APT_TEST) $(APT_DEB)
	@scripts/ensure-pip $(PIP_TEST)

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

$(CONFIG):
	@scripts/default-config $(CONFIG)

# The daemon prints where to drop files and where the dashboard is; Ctrl-C stops it.
run: release $(CONFIG)
	$(BIN_RELEASE) run --config $(CONFIG)

# Suites whose assertions are about time (cancel within a second, settle windows, watchdog pings, grace periods,
# progress seen live in a browser)
# run one test at a time after the rest, so the parallel transcodes cannot starve them into false failures.
SERIAL_TESTS := PipelineTests.TranscoderTests|PipelineTests.UntrustedInputTests|EndToEndTests.DaemonUntrustedTests|EndToEndTests.EngineCLITests|PackagingTests.SystemdNotifierTests|WatchFolderTests.Intake|WatchFolderTests.SchedulerTests|EndToEndTests.DaemonTests|WatchFolderTests.StatusDashboardTests|WatchFolderTests.StatusLoadTests

# Each run is bounded (normally 1-2 minutes): a hung test fails `make test` with a message, it never stalls CI.
# `timeout` signals its process group (swift test and the test process); the test peers (Tests/Peers) exit on
# their own when the test process's end closes their standard input.
TEST_TIMEOUT := 1200
SWIFT_TEST = timeout --kill-after=30 $(TEST_TIMEOUT) $(SWIFT) test --skip-build $(2) || { rc=$$?; \
	if [ $$rc = 124 ] || [ $$rc = 137 ]; then echo "make test: the $(1) tests did not finish within $(TEST_TIMEOUT) s"; fi; exit $$rc; }

# The packaging tests install this .deb (built first, from the release binary) on this machine and purge it.
test: setup-test deb
	scripts/check-layers
	$(SWIFT) build --build-tests
	$(call SWIFT_TEST,parallel,--skip '$(SERIAL_TESTS)')
	$(call SWIFT_TEST,serial,--no-parallel --filter '$(SERIAL_TESTS)')

# watchfolder_<version>_amd64.deb in this folder (version: Sources/WatchFolder/Version.swift): the Swift
# runtime linked in, full RELRO (-z now), packaged by debhelper (packaging/deb).
deb: setup
	@scripts/ensure-apt $(APT_DEB)
	$(SWIFT) build -c release --static-swift-stdlib -Xlinker -z -Xlinker now
	packaging/deb/build-deb.sh

bench: setup-test release
	@scripts/ensure-apt time
	@for b in bench/*.sh; do echo "== $$b"; bash "$$b" || exit 1; done

clean:
	rm -rf .build var
