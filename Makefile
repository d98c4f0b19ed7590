# The two commands (see README): `make demo` runs the sample, `make test` runs every test.
# Both install what they need first (tools/bootstrap.sh; quick when all is there).

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

# (tests/.tmp: the apps the packaging tests build, never tests themselves; tests/dist: the
# tests of every platform's binary, run once the cross builds are done, see `test`)
NODE_TESTS = $(shell find tests -path tests/.tmp -prune -o -path tests/dist -prune -o -name '*.test.mjs' -print | sort)
DIST_TESTS = $(shell find tests/dist -name '*.test.mjs' | sort)

.PHONY: all bootstrap check pkg dist dist-host test test-host test-dist demo demo-webhook bench fuzz clean FORCE

all: pkg

bootstrap:
	@tools/bootstrap.sh

# The npm package, assembled in pkg/ (wasm-pack builds + pkg-template/).
# Rebuilt only when a source of it changed (target/pkg.stamp records the last build).
PKG_SOURCES = $(shell find src pkg-template tools -type f) Cargo.toml Cargo.lock
pkg: bootstrap target/pkg.stamp
target/pkg.stamp: $(PKG_SOURCES) $(if $(wildcard pkg/package.json),,FORCE)
	node tools/build-pkg.mjs
	@mkdir -p target && touch $@

# The release tarballs, in dist/: qbitpay-<v>.tgz (pkg/), qbitpay-sandbox-<v>.tgz (the launcher
# and startSandbox(), npm/qbitpay-sandbox, whose optionalDependencies name the five platform
# packages) and qbitpay-sandbox-<platform>-<v>.tgz, one per platform: linux-x64 (a static musl
# build), linux-arm64 (static musl), darwin-x64, darwin-arm64 and win32-x64, cross-compiled with
# cargo-zigbuild into target/cross/ (a directory of its own: that build never waits for cargo's
# lock on target/). <v>: the version in Cargo.toml. Cargo rebuilds only what changed.
SANDBOX_TARGET = x86_64-unknown-linux-musl
CROSS_TARGETS = aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu
CROSS_PLATFORMS = linux-arm64,darwin-x64,darwin-arm64,win32-x64
# macOS 11 (Big Sur, the first for Apple silicon) or later, not zig's default (the newest macOS).
CROSS_BUILD = env MACOSX_DEPLOYMENT_TARGET=11.0 CARGO_ZIGBUILD_PYTHON_PATH=$(CURDIR)/.tools/venv/bin/python3 \
  .tools/venv/bin/cargo-zigbuild zigbuild -p qbitpay-sandbox --profile sandbox --target-dir target/cross \
  $(addprefix --target ,$(CROSS_TARGETS))
PACK = rm -rf dist && mkdir dist && npm pack ./pkg --pack-destination dist --loglevel=error && \
  node tools/pack-sandbox.mjs --out dist --target-dir target --target-dir target/cross
dist: pkg
	@tools/bootstrap.sh dist
	cargo build -p qbitpay-sandbox --profile sandbox --target $(SANDBOX_TARGET)
	$(CROSS_BUILD)
	$(PACK) --require linux-x64,$(CROSS_PLATFORMS)

# The code checks itself: rustfmt; clippy over the workspace on the host, and over the wasm32
# crate with each feature set tools/build-pkg.mjs builds (read from it); tsc (in `test`)
# over the declarations written by hand (pkg-template's, as assembled in pkg/, and the
# sandbox npm package's) and the consumers of tests/types.
WASM_FEATURE_SETS = $(shell sed -n "s/.*features: '\([^']*\)'.*/\1/p" tools/build-pkg.mjs)
TSC = tsc --strict --noEmit --module nodenext --moduleResolution nodenext --target es2022 --lib es2022,dom,dom.asynciterable
check: bootstrap
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	@test -n "$(WASM_FEATURE_SETS)" || { echo "no wasm feature sets in tools/build-pkg.mjs" >&2; exit 1; }
	set -e; for f in $(WASM_FEATURE_SETS); do \
	  cargo clippy -p qbitpay --lib --quiet --target wasm32-unknown-unknown --no-default-features --features $$f -- -D warnings; \
	done

# dist/ with the linux-x64 package only (the launcher still names all five): what the tests of
# the host's packages need, while `make test` cross-compiles the others in the background.
dist-host: pkg
	@tools/bootstrap.sh dist
	cargo build -p qbitpay-sandbox --profile sandbox --target $(SANDBOX_TARGET)
	$(PACK) --require linux-x64 --also $(CROSS_PLATFORMS)

# Every test. The cross builds start first (only their own tools installed before them), in
# the background at the lowest priority (nice 19: they take only the CPU the rest leaves idle,
# the downloads of the other installs included), while the checks and the host's tests run; then
# the complete dist/ and the tests of the other platforms' binaries (tests/dist/: under
# qemu-user and Wine, the macOS ones by format, version and signature, npm's choice from a
# registry on loopback).
test:
	@tools/bootstrap.sh cross
	@mkdir -p target/cross
	tools/background.sh target/cross/build.log nice -n 19 $(CROSS_BUILD) -- $(MAKE) --no-print-directory check test-host
	$(MAKE) --no-print-directory test-dist

test-host: dist-host
	@tools/bootstrap.sh browser
	@tools/bootstrap.sh servers
	cargo test --workspace
	cargo build -p qbitpay-sandbox
	node --test --test-concurrency=1 $(NODE_TESTS)
	$(TSC) $(shell find tests/types -name '*.ts' | sort)
	$(TSC) pkg/index.d.ts npm/qbitpay-sandbox/index.d.ts

test-dist: dist
	@tools/bootstrap.sh emulators
	node --test --test-concurrency=1 $(DIST_TESTS)

# The sample checkout (www/): the sandbox (auto-confirm after 2 s) and the merchant backend
# on 127.0.0.1; prints the URL (default http://127.0.0.1:8080/; DEMO_PORT, SANDBOX_PORT,
# QBITPAY_API_KEY, AUTO_CONFIRM_SECS override). Ctrl-C stops both.
demo: pkg
	cargo build -p qbitpay-sandbox --profile sandbox
	node www/demo.mjs

# What a webhook endpoint does with good and bad deliveries, without any server.
demo-webhook: pkg
	node www/demo-webhook.mjs

# Side-by-side benchmarks (ratios against the peer measured in the same run), not tests.
bench: pkg
	cargo build -p qbitpay-sandbox --profile sandbox
	node bench/webhook.mjs
	node --expose-gc bench/client.mjs
	node bench/boundary.mjs
	cargo bench -p qbitpay-sandbox --profile sandbox --bench load

# Coverage-guided fuzzing of the canonicaliser (not in CI): FUZZ_SECONDS=600 make fuzz
FUZZ_SECONDS ?= 120
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) cargo test --release -p qbitpay --test fuzz_canonical -- --ignored --nocapture

FORCE:

clean:
	rm -rf pkg dist target/wasm-pack target/pkg.stamp
