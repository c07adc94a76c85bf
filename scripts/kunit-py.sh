#!/usr/bin/env bash
# Print the absolute path of a usable kunit.py (the Linux kernel's KUnit tool).
#
# Resolution order:
#   1. $KUNIT_PY, if set (must point at an existing file);
#   2. a cached extraction under ${XDG_CACHE_HOME:-$HOME/.cache}/kunit-bridge/;
#   3. extract tools/testing/kunit/ from the Debian linux-source-6.12 tarball
#      into that cache (slow once: the whole .tar.xz stream is decompressed);
#   4. otherwise print an error and exit 2.
#
# kunit.py's `parse` subcommand only needs the Python files in
# tools/testing/kunit/ (kunit.py imports kunit_config, kunit_json,
# kunit_kernel, kunit_parser, kunit_printer and qemu_config, all in that dir),
# so nothing else is extracted.
set -euo pipefail

KERNEL_SERIES=6.12
SOURCE_TARBALL="/usr/src/linux-source-${KERNEL_SERIES}.tar.xz"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kunit-bridge"
CACHE_DIR="${CACHE_ROOT}/kunit_tool-${KERNEL_SERIES}"
KUNIT_REL="tools/testing/kunit/kunit.py"

if [[ -n "${KUNIT_PY:-}" ]]; then
  if [[ ! -f "$KUNIT_PY" ]]; then
    echo "kunit-py.sh: KUNIT_PY=$KUNIT_PY does not exist" >&2
    exit 2
  fi
  # Print it absolute.
  printf '%s\n' "$(cd "$(dirname "$KUNIT_PY")" && pwd -P)/$(basename "$KUNIT_PY")"
  exit 0
fi

if [[ -f "${CACHE_DIR}/${KUNIT_REL}" ]]; then
  printf '%s\n' "${CACHE_DIR}/${KUNIT_REL}"
  exit 0
fi

if [[ ! -f "$SOURCE_TARBALL" ]]; then
  echo "kunit-py.sh: kunit.py not found; run \`apt-get install linux-source-${KERNEL_SERIES}\` (or set KUNIT_PY=/path/to/kunit.py)" >&2
  exit 2
fi

echo "kunit-py.sh: extracting tools/testing/kunit from ${SOURCE_TARBALL} (one-off, slow)..." >&2
mkdir -p "$CACHE_ROOT"
tmp="$(mktemp -d "${CACHE_ROOT}/.extract.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# Strip the top-level linux-source-X.Y/ component.
tar -xJf "$SOURCE_TARBALL" -C "$tmp" --strip-components=1 \
  --wildcards --no-anchored '*/tools/testing/kunit/*'
if [[ ! -f "${tmp}/${KUNIT_REL}" ]]; then
  echo "kunit-py.sh: ${SOURCE_TARBALL} contains no ${KUNIT_REL}" >&2
  exit 2
fi
# Publish atomically (another process may have raced us; keep theirs).
rm -rf "$CACHE_DIR.new"
mv "$tmp" "$CACHE_DIR.new"
trap - EXIT
if ! mv -T "$CACHE_DIR.new" "$CACHE_DIR" 2>/dev/null; then
  rm -rf "$CACHE_DIR.new"
  if [[ ! -f "${CACHE_DIR}/${KUNIT_REL}" ]]; then
    echo "kunit-py.sh: ${CACHE_DIR} exists but has no ${KUNIT_REL}; remove it and retry" >&2
    exit 2
  fi
fi
printf '%s\n' "${CACHE_DIR}/${KUNIT_REL}"
