# watchfolder: `make run` and `make test` do all set-up on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# What the build needs, and what the tests use as independent oracles and peers
# (mesa-vulkan-drivers: a CPU Vulkan device, standing in for a GPU in the hardware-surface tests; strace: traces the
# daemon's fsyncs and renames, and kills it at a chosen system call; python3-fusepy: a FUSE share whose reads hang,
# for the untrusted-media tests).
APT_BUILD := pkg-config libavcodec-dev libavformat-dev libavfilter-dev libavutil-dev libswscale-dev \
             libswresample-dev libsqlite3-dev libcurl4-openssl-dev
APT_TEST  := postgresql ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav python3-fusepy mesa-vulkan-drivers openssh-server openssh-client samba smbclient openssl chromium lintian systemd man-db strace
# `make deb`: debhelper builds the package, help2man its man page from --help, chrpath drops SwiftPM's RUNPATH.
APT_DEB   := debhelper help2man chrpath fakeroot dpkg-dev
PIP_TEST  := moto[server]==5.2.1 awscli==1.45.11 standardwebhooks==1.1.0 prometheus_client websocket-client

SWIFT ?= swift
CONFIG ?= var/config.toml
BIN_RELEASE := .build/release/watchfolder

.PHONY: setup setup-test build release run test test-builds test-deb test-build test-timed test-rest test-library bench clean deb fuzz-check-build fuzz-check-run fuzz fuzz-seeds fuzz-build fuzz-check test-asan

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
# progress seen live in a browser) run one test at a time, at normal priority, while every other suite runs in
# parallel (and then the fuzz pass) at nice 10 in a second process: the timed suites get a core whenever they ask
# for one, and the idle time between their steps goes to the rest. StatusMetricsTests are here too: swift-metrics has
# one backend per process, so its gauges (queue depth, speed) would be set by every job a parallel test runs.
SERIAL_TESTS := PipelineTests.TranscoderTests|PipelineTests.UntrustedInputTests|EndToEndTests.DaemonUntrustedTests|EndToEndTests.EngineCLITests|PackagingTests.SystemdNotifierTests|WatchFolderTests.Intake|WatchFolderTests.SchedulerTests|EndToEndTests.DaemonTests|EndToEndTests.SidecarDaemonTests|WatchFolderTests.StatusDashboardTests|WatchFolderTests.StatusTracksDashboardTests|PipelineTests.FuzzHarnessTests|PipelineTests.DashTests|PipelineTests.IFramePlaylistTests|PipelineTests.AudioLanguagesTests|PipelineTests.SubtitleTests|WatchFolderTests.StatusLoadTests|WatchFolderTests.StatusMetricsTests

# Each run is bounded (normally 2-4 minutes): a hung test fails `make test` with a message, it never stalls CI.
# The test binary is run directly (`swift test` would make the second run wait for the first one's lock on .build);
# `timeout` signals its process group; the test peers (Tests/Peers) exit on their own when the test process's end
# closes their standard input.
TEST_TIMEOUT := 1200
TEST_BINARY  := .build/debug/watchfolderPackageTests.xctest
RUN_TESTS = NO_COLOR=1 timeout --kill-after=30 $(TEST_TIMEOUT) $(1) $(TEST_BINARY) --testing-library swift-testing $(3) || { rc=$$?; \
	if [ $$rc = 124 ] || [ $$rc = 137 ]; then echo "make test: the $(2) tests did not finish within $(TEST_TIMEOUT) s"; fi; exit $$rc; }

# The packaging tests install this .deb on this machine and purge it. It is packaged from the tests' own debug build,
# linked as `make deb` links the release binary (the Swift runtime linked in, -z now): one compile of the whole
# dependency graph instead of two, which is most of `make test`'s time on 2 cores. What the packaging tests check
# (the package's files, scripts, unit, users and permissions, and the installed daemon at work) does not depend
# on the optimiser. The tests' build and the fuzz pass's engine build run at once, each in a scratch path of its
# own. Each run's output is shown when it ends.
test: setup-test
	scripts/check-layers
	$(MAKE) --no-print-directory -j2 test-builds
	$(MAKE) --no-print-directory -j3 --output-sync=target test-timed test-rest test-library

test-timed:
	$(call RUN_TESTS,,timed,--no-parallel --filter '$(SERIAL_TESTS)')

# The parallel suites run in two processes: the daemon library's own suites (status servers, stores, webhooks, S3)
# in one, the engine, end-to-end and packaging suites (child processes: ffmpeg, the daemon, sshd, smbd, dpkg) in the
# other. Each process has a cooperative pool of its own (one thread per core): a test there that holds a pool thread
# (a child's exit awaited, a server stopped) cannot stall the other process's status servers; in one process, a
# status server once answered nothing for 20 s under CI's load.
LIBRARY_TESTS := WatchFolderTests\.

test-rest:
	$(call RUN_TESTS,nice -n 10,parallel,--skip '$(SERIAL_TESTS)|$(LIBRARY_TESTS)')
	nice -n 10 $(MAKE) --no-print-directory fuzz-check-run

test-library:
	$(call RUN_TESTS,nice -n 10,library,--filter '$(LIBRARY_TESTS)' --skip '$(SERIAL_TESTS)')

test-builds: test-deb fuzz-check-build

test-deb: test-build
	SWIFT=$(SWIFT) scripts/link-static-debug .build/deb/watchfolder
	WATCHFOLDER_DEB_BINARY=.build/deb/watchfolder DPKG_DEB_COMPRESSOR_TYPE=gzip DPKG_DEB_COMPRESSOR_LEVEL=1 \
		packaging/deb/build-deb.sh

test-build: setup
	$(SWIFT) build --build-tests

# Fuzzing (README "Fuzzing"): the engine alone and its fuzz target (WATCHFOLDER_ENGINE_ONLY=fuzz, see Package.swift),
# built with libFuzzer and AddressSanitizer in a scratch path of its own: release for `make fuzz`, debug (a quicker
# build from a clean clone) for the pass in `make test`. Seeds are made by Tests/Fuzz/make-seeds.sh; findings that were
# fixed stay in Tests/Fuzz/regressions and are replayed by every pass.
FUZZ_SCRATCH   := .build-fuzz
FUZZ_BUILD      = set -o pipefail; WATCHFOLDER_ENGINE_ONLY=fuzz $(SWIFT) build $(1) --scratch-path $(FUZZ_SCRATCH) --product PipelineFuzz \
	-Xswiftc -sanitize=fuzzer,address 2>&1 | { grep -vE 'Cannot export local symbol|is not used by any target' || true; }
FUZZ_BIN       := $(FUZZ_SCRATCH)/release/PipelineFuzz
FUZZ_CHECK_BIN := $(FUZZ_SCRATCH)/debug/PipelineFuzz
FUZZ_SECONDS   ?= 600
# A hang is a finding: no input may take 30 s (the harness's own deadlines are 10 s).
FUZZ_TIMEOUT   ?= 30
FUZZ_RSS_MB    ?= 3072
FUZZ_RUNS      ?= 200
# Swift's backtracer off: libFuzzer and ASan report crashes (the backtracer, run under ASan, reports itself).
FUZZ_ENV       := SWIFT_BACKTRACE=enable=no
FUZZ_FLAGS      = -timeout=$(FUZZ_TIMEOUT) -rss_limit_mb=$(FUZZ_RSS_MB) -max_len=60000 -dict=Tests/Fuzz/media.dict

fuzz-seeds: setup
	@scripts/ensure-apt ffmpeg
	Tests/Fuzz/make-seeds.sh $(FUZZ_SCRATCH)/seeds

fuzz-build: fuzz-seeds
	$(call FUZZ_BUILD,-c release)

# FUZZ_SECONDS of fuzzing (one job); the corpus grows in .build-fuzz/corpus across runs. A finding does not stop the
# run: each is saved in .build-fuzz/findings/ (crash-*, timeout-*, leak-*, oom-*), listed at the end, and fails the run.
fuzz: fuzz-build
	mkdir -p $(FUZZ_SCRATCH)/corpus $(FUZZ_SCRATCH)/findings
	set -o pipefail; $(FUZZ_ENV) $(FUZZ_BIN) -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time=$(FUZZ_SECONDS) \
		$(FUZZ_FLAGS) -artifact_prefix=$(FUZZ_SCRATCH)/findings/ -print_final_stats=1 \
		$(FUZZ_SCRATCH)/corpus $(FUZZ_SCRATCH)/seeds Tests/Fuzz/regressions 2>&1 | tee $(FUZZ_SCRATCH)/fuzz.log
	@Tests/Fuzz/summary.sh $(FUZZ_SCRATCH)/fuzz.log $(FUZZ_SCRATCH)/findings

# The pass in `make test` (debug build): seed 1, FUZZ_RUNS executions in all (every seed and regression input first,
# then mutations); the first crash, hang (FUZZ_TIMEOUT), leak or sanitizer report fails it (the input is saved as
# .build-fuzz/check-*).
fuzz-check: fuzz-check-build
	$(MAKE) --no-print-directory fuzz-check-run

fuzz-check-build: fuzz-seeds
	$(call FUZZ_BUILD)

fuzz-check-run:
	rm -rf $(FUZZ_SCRATCH)/check-* && mkdir -p $(FUZZ_SCRATCH)/check-corpus
	$(FUZZ_ENV) timeout --kill-after=30 $(TEST_TIMEOUT) $(FUZZ_CHECK_BIN) -seed=1 -runs=$(FUZZ_RUNS) $(FUZZ_FLAGS) \
		-artifact_prefix=$(FUZZ_SCRATCH)/check- -print_final_stats=1 \
		$(FUZZ_SCRATCH)/check-corpus $(FUZZ_SCRATCH)/seeds Tests/Fuzz/regressions > $(FUZZ_SCRATCH)/check.log 2>&1; \
	rc=$$?; if [ $$rc = 0 ]; then grep -E '^#[0-9]+.*(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss)' $(FUZZ_SCRATCH)/check.log; \
	else grep -vE '^#[0-9]+.*(NEW|REDUCE|pulse)|NEW_FUNC' $(FUZZ_SCRATCH)/check.log | tail -150; \
		echo "make test: the fuzz pass failed (exit $$rc); the input is $(FUZZ_SCRATCH)/check-*, the log $(FUZZ_SCRATCH)/check.log"; fi; exit $$rc

# The engine's own tests (PipelineTests, with the regression inputs) under AddressSanitizer and LeakSanitizer, in
# .build-asan: the engine alone (WATCHFOLDER_ENGINE_ONLY=1, see Package.swift). Whole stacks, so that the leaks of the
# toolchain's libraries and of GPU drivers can be told from ours (Tests/Sanitizers/lsan.supp).
ASAN_TEST_ENV := WATCHFOLDER_ENGINE_ONLY=1 ASAN_OPTIONS=fast_unwind_on_malloc=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/Sanitizers/lsan.supp
test-asan: setup-test
	set -o pipefail; WATCHFOLDER_ENGINE_ONLY=1 $(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan \
		2>&1 | { grep -vE 'Cannot export local symbol|is not used by any target' || true; }
	$(ASAN_TEST_ENV) timeout --kill-after=30 $(TEST_TIMEOUT) $(SWIFT) test --skip-build --sanitize=address \
		--scratch-path .build-asan --no-parallel

# watchfolder_<version>_amd64.deb in this folder (version: Sources/WatchFolder/Version.swift): the Swift
# runtime linked in, full RELRO (-z now), packaged by debhelper (packaging/deb).
DEB_LINK := -Xlinker -z -Xlinker now
deb: setup
	@scripts/ensure-apt $(APT_DEB)
	$(SWIFT) build -c release --static-swift-stdlib $(DEB_LINK)
	WATCHFOLDER_DEB_BINARY=.build/release/watchfolder packaging/deb/build-deb.sh

bench: setup-test release
	@scripts/ensure-apt time
	@for b in bench/*.sh; do echo "== $$b"; bash "$$b" || exit 1; done

clean:
	rm -rf .build .build-fuzz .build-asan var
