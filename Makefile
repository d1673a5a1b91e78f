# arc: the README's two commands are `make demo` and `make test`.
PREFIX ?= /usr/local
# Every executable target is a tool: Sources/TOOL/main.swift.
TOOLS := $(patsubst Sources/%/main.swift,%,$(wildcard Sources/*/main.swift))
SWIFT ?= swift
RELEASE := .build/release
DEBUG := .build/debug
PYTEST := .venv/bin/python -m pytest

.PHONY: all build release static install uninstall test unit-test tool-test tsan fuzz fuzz-smoke demo bench docs check-docs setup clean

all: release

release:
	$(SWIFT) build -c release

build: release

# Every tool with the Swift runtime linked in (in .build-static/release), then each one's
# size and --version time.
static:
	scripts/static.sh

setup:
	scripts/setup.sh

# Unit tests, then the tools run against real servers on 127.0.0.1, then the threaded
# unit tests under ThreadSanitizer, then the fuzz corpus through every fuzz target.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	ARC_BIN=$(CURDIR)/$(DEBUG) $(PYTEST) -q Tests/tools
	$(MAKE) tsan
	$(MAKE) fuzz-smoke

# The unit tests that run threads (the thread primitives, PrefetchingSource, the transfer engine and
# SimpleHTTP against FaultServer, RangeSink's writers, the OTLP batcher, and the engines
# of arc-collect, s3x and wf-run: Collector, Mover, WorkflowRunner) under
# ThreadSanitizer, in a build directory of its own. Any report fails the target.
TSAN_TESTS := ArcCoreTests\.(QueueTests|ThreadPrimitiveTests|PrefetchingSourceTests|S3StreamTests|TransferEngineTests|SimpleHTTPTests|OTLPTests)|ArcCollectTests\.CollectorTests|ArcSilverTests\.SilverLedgerTests|ArcS3xTests\.MoverTests|ArcWorkflowTests\.WorkflowRunnerTests|ArcHTTPServerTests\.HTTPServerTests
tsan:
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter '$(TSAN_TESTS)'

demo: setup release
	scripts/demo.sh

# The static build too: the startup row measures its --version against /bin/true.
bench: release static
	scripts/setup.sh bench
	.venv/bin/python bench/run.py

# Regenerates man pages and completions from the command specs.
docs: release
	scripts/gen-docs.sh $(RELEASE)

# Generates them into a temporary directory and diffs against the committed files: exit 1
# with the diff when they differ. The tool tests (make test) run it with the debug build.
check-docs: release
	scripts/gen-docs.sh --check $(RELEASE)

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d \
		$(DESTDIR)$(PREFIX)/share/arc/examples
	install -m 644 examples/README.md examples/crontab examples/s3x-commands.txt examples/*.toml examples/slurm-shards.sbatch $(DESTDIR)$(PREFIX)/share/arc/examples/
	install -m 755 examples/daily-update.sh examples/arc-source-urls examples/lake-replicate.sh examples/log-search.sh examples/traced-cron.sh examples/silver-query.sh examples/parallel-shards.sh $(DESTDIR)$(PREFIX)/share/arc/examples/
	install -d $(DESTDIR)$(PREFIX)/share/arc/examples/kubernetes $(DESTDIR)$(PREFIX)/share/arc/examples/container
	install -m 644 examples/kubernetes/*.yaml $(DESTDIR)$(PREFIX)/share/arc/examples/kubernetes/
	install -m 644 examples/container/Containerfile $(DESTDIR)$(PREFIX)/share/arc/examples/container/
	for t in $(TOOLS); do \
		install -m 755 $(RELEASE)/$$t $(DESTDIR)$(PREFIX)/bin/$$t; \
		install -m 644 man/$$t.1 $(DESTDIR)$(PREFIX)/share/man/man1/$$t.1; \
		install -m 644 completions/bash/$$t $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t; \
		install -m 644 completions/zsh/_$$t $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t; \
		install -m 644 completions/fish/$$t.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; \
	done

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/share/arc
	for t in $(TOOLS); do \
		rm -f $(DESTDIR)$(PREFIX)/bin/$$t $(DESTDIR)$(PREFIX)/share/man/man1/$$t.1 \
			$(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t \
			$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t \
			$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; \
	done

clean:
	rm -rf .build .build-static .build-tsan .demo bench/out Fuzz/.build

# Fuzzing (Fuzz/: a libFuzzer target per parser of outside input, its own package).
# `make fuzz` runs each target for FUZZ_SECONDS and keeps crash inputs in Fuzz/Crashes/;
# `make fuzz-smoke` replays the committed corpus (FUZZ_SMOKE_SECONDS=N adds N s of fuzzing each).
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) Fuzz/fuzz.sh run

fuzz-smoke:
	Fuzz/fuzz.sh smoke
