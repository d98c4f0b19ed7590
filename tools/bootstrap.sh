#!/usr/bin/env bash
# Install what building and testing need, skipping whatever is already there (a second run
# takes about a second). Called by `make`; safe to run by hand.
#   tools/bootstrap.sh          Rust wasm toolchain + node dev dependencies
#   tools/bootstrap.sh browser  ... and Debian's chromium for the browser tests
#   tools/bootstrap.sh dist     ... and the sandbox's builds for its npm packages: the static (musl)
#                               Linux build here, and the other platforms' cross builds
#   tools/bootstrap.sh emulators ... and what runs those binaries here: qemu-user, Wine, llvm-objdump
#   tools/bootstrap.sh cross    only what the cross builds need (their targets, zig and
#                               cargo-zigbuild): `make test` starts them before the rest installs
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
say() { echo "bootstrap: $*" >&2; }

# The sandbox binary of the npm package is linked statically against musl (it runs on any
# Linux); rusqlite's bundled SQLite is compiled with musl-gcc. The other platforms
# (linux-arm64, darwin-x64, darwin-arm64, win32-x64) are cross-compiled with cargo-zigbuild,
# zig being the C compiler (SQLite) and linker for every target, macOS's libc stubs included:
# both from PyPI wheels, in a virtualenv of their own (.tools/venv), at pinned versions.
ZIGLANG=0.17.1
CARGO_ZIGBUILD=0.24.1
cross_tools() {
  local installed want
  installed=$(rustup target list --installed)
  for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu; do
    if ! grep -qx "$t" <<<"$installed"; then
      say "adding the $t target"
      rustup target add "$t"
    fi
  done
  want="ziglang==$ZIGLANG cargo-zigbuild==$CARGO_ZIGBUILD"
  if [ "$(cat .tools/venv/installed 2>/dev/null)" != "$want" ]; then
    say "installing $want (PyPI wheels) into .tools/venv"
    rm -rf .tools/venv
    python3 -m venv .tools/venv
    .tools/venv/bin/pip install -q --disable-pip-version-check $want
    echo "$want" > .tools/venv/installed
  fi
}
if [ "${1:-}" = cross ]; then
  cross_tools
  exit 0
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# `make check`: rustfmt and clippy.
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "adding the $component component"
    rustup component add "$component"
  fi
done

# wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate in Cargo.lock
# (wasm-pack's own download of it cannot work on these machines).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none}; takes ~4 min)"
  cargo install wasm-bindgen-cli --version "$want" --force --target-dir target/tools
fi

# 0.14 or later: tools/build-pkg.mjs builds each module with `--profile <name>`. (Both tools
# are built in target/tools, so the dependencies they share are built once.)
wp=$(wasm-pack --version 2>/dev/null | awk '{print $2}' || true)
if [ -z "$wp" ] || [ "$(printf '%s\n' 0.14.0 "$wp" | sort -V | head -n1)" != 0.14.0 ]; then
  say "installing wasm-pack (found: ${wp:-none}; ~3 min)"
  cargo install wasm-pack --force --target-dir target/tools
fi

# Node dev dependencies (wasm-opt from binaryen, esbuild, typescript, test peers), exactly
# as locked. Re-run npm ci only when the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi

if [ "${1:-}" = dist ]; then
  cross_tools
  # qemu-user too: the linux-arm64 binary runs here as soon as it is built
  # (qemu-aarch64-static target/cross/aarch64-unknown-linux-musl/sandbox/qbitpay-sandbox).
  missing=()
  command -v musl-gcc >/dev/null || missing+=(musl-tools)
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# Running the cross-built binaries here (tests/dist): qemu-user for linux-arm64, Wine for
# win32-x64, and llvm-objdump for the load commands of the macOS ones.
if [ "${1:-}" = emulators ]; then
  missing=()
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  [ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
  command -v llvm-objdump >/dev/null || missing+=(llvm)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if [ "${1:-}" = browser ] && ! command -v chromium >/dev/null; then
  say "installing Debian's chromium"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# The webhook handler tests run a redis-server and a PostgreSQL server of Debian's packages,
# which the tests start themselves on free ports of 127.0.0.1 (never as services).
if [ "${1:-}" = servers ]; then
  need=()
  command -v redis-server >/dev/null || need+=(redis-server)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
  if [ ${#need[@]} -gt 0 ]; then
    say "installing Debian's ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
