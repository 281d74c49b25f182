#!/usr/bin/env bash
# Builds the C load generator of the SRTP⇄RTP benchmark into bench/loadgen-c/build/loadgen (gitignored).
# Needs gcc, pkg-config, and libssl-dev (.ci/install-peers installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/build"
flags="$(pkg-config --cflags --libs openssl)"
# shellcheck disable=SC2086
gcc -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o "$here/build/loadgen.$$" "$here"/*.c $flags
# rename: a concurrent build or run sees the old binary or the new one, never half of one
mv -f "$here/build/loadgen.$$" "$here/build/loadgen"
