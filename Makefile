# The two commands (see README): `make demo` runs the sample, `make test` runs every test.
# Both install what they need first (tools/bootstrap.sh; quick when all is there).

SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

# (tests/.tmp: the apps the packaging tests build, never tests themselves)
NODE_TESTS = $(shell find tests -path tests/.tmp -prune -o -name '*.test.mjs' -print | sort)

.PHONY: all bootstrap check pkg dist test demo demo-webhook bench fuzz clean FORCE

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
# and startSandbox(), npm/qbitpay-sandbox) and qbitpay-sandbox-linux-x64-<v>.tgz (the sandbox as
# a static musl binary, built once here and tested from the tarball by make test). <v>: the
# version in Cargo.toml. tools/pack-sandbox.mjs also packs binaries of other targets it finds.
SANDBOX_TARGET = x86_64-unknown-linux-musl
dist: pkg
	@tools/bootstrap.sh dist
	cargo build -p qbitpay-sandbox --profile sandbox --target $(SANDBOX_TARGET)
	rm -rf dist && mkdir dist
	npm pack ./pkg --pack-destination dist --loglevel=error
	node tools/pack-sandbox.mjs --out dist

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

test: check pkg dist
	@tools/bootstrap.sh browser
	@tools/bootstrap.sh servers
	cargo test --workspace
	cargo build -p qbitpay-sandbox
	node --test --test-concurrency=1 $(NODE_TESTS)
	$(TSC) $(shell find tests/types -name '*.ts' | sort)
	$(TSC) pkg/index.d.ts npm/qbitpay-sandbox/index.d.ts

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
