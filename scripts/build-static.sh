#!/usr/bin/env bash
# Builds a fully static x86-64 Linux executable of callcenter (glibc linked
# statically: no dynamic loader, no shared libraries, no GLIBC_ symbol
# versions), so it runs on any x86-64 Linux, CentOS 7 (glibc 2.17) included.
#
#   scripts/build-static.sh          # cargo's output on stderr; the binary's
#                                    # absolute path, last, on stdout
#
# The explicit --target matters: with it, RUSTFLAGS apply to the target only,
# so proc-macros and build scripts still build as normal (dynamic) host code.
# A separate target dir (CARGO_TARGET_DIR, default target/static in the
# repository) keeps this build from fighting other builds for the cargo lock.
# Extra arguments are passed to cargo build (e.g. --locked).
set -euo pipefail

target=x86_64-unknown-linux-gnu
dir=${CARGO_TARGET_DIR:-}
if [ -n "$dir" ] && [ "${dir#/}" = "$dir" ]; then
    dir=$PWD/$dir # relative to where we were called from
fi
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${dir:-$PWD/target/static}"
export RUSTFLAGS='-C target-feature=+crt-static'
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

cargo build --release --target "$target" "$@" >&2

echo "$CARGO_TARGET_DIR/$target/release/callcenter"
