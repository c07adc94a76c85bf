#!/usr/bin/env bash
# Regenerate test/golden/kunit-py/: the Linux kernel's own kunit.py parser
# output for every fixture log, used as reference ("golden") data.
#
# Inputs (relative to the repo root):
#   ../shared/fixtures/ktap/**/*.log
#   ../shared/fixtures/kernels/*/boot*.log
# Outputs, per log, with <name> = <parent dir name>--<basename without .log>:
#   test/golden/kunit-py/<name>.json  kunit.py's --json file, bytes untouched
#                                     (not created if kunit.py wrote none)
#   test/golden/kunit-py/<name>.txt   kunit.py's stdout, with the leading
#                                     "[HH:MM:SS] " timestamps removed and the
#                                     repo root stripped from absolute paths
#   test/golden/kunit-py/<name>.exit  kunit.py's exit status + "\n"
#
# kunit.py is located with scripts/kunit-py.sh (honours $KUNIT_PY).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
shared="$(cd "${repo_root}/../shared" && pwd -P)"
out_dir="${repo_root}/test/golden/kunit-py"

kunit_py="$("${repo_root}/scripts/kunit-py.sh")"
python="${PYTHON:-python3}"

# Deterministic decoding of the logs (kunit.py opens them with the locale
# encoding and errors='backslashreplace') and of its stdout.
export PYTHONUTF8=1 PYTHONIOENCODING=utf-8 PYTHONDONTWRITEBYTECODE=1
export LC_ALL=C.UTF-8

logs=()
while IFS= read -r -d '' f; do logs+=("$f"); done < <(
  { find "${shared}/fixtures/ktap" -type f -name '*.log' -print0
    find "${shared}/fixtures/kernels" -mindepth 2 -maxdepth 2 -type f -name 'boot*.log' -print0
  } | sort -z)

if [[ ${#logs[@]} -eq 0 ]]; then
  echo "update-kunit-py-golden.sh: no fixture logs found under ${shared}/fixtures" >&2
  exit 1
fi

mkdir -p "$out_dir"
rm -f "$out_dir"/*.json "$out_dir"/*.txt "$out_dir"/*.exit "$out_dir"/*.stderr

declare -A seen=()
tmp_stdout="$(mktemp)"
tmp_stderr="$(mktemp)"
trap 'rm -f "$tmp_stdout" "$tmp_stderr"' EXIT

for log in "${logs[@]}"; do
  dir="$(basename "$(dirname "$log")")"
  base="$(basename "$log" .log)"
  name="${dir}--${base}"
  if [[ -n "${seen[$name]:-}" ]]; then
    echo "update-kunit-py-golden.sh: name collision: $name ($log vs ${seen[$name]})" >&2
    exit 1
  fi
  seen[$name]="$log"

  json="${out_dir}/${name}.json"
  rc=0
  "$python" "$kunit_py" parse "$log" --json="$json" >"$tmp_stdout" 2>"$tmp_stderr" || rc=$?

  # Strip "[HH:MM:SS] " timestamps and this machine's repo root.
  sed -E -e 's/^\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] //' \
         -e "s#${repo_root}/##g" "$tmp_stdout" >"${out_dir}/${name}.txt"
  printf '%d\n' "$rc" >"${out_dir}/${name}.exit"
  if [[ -s "$tmp_stderr" ]]; then
    sed -e "s#${repo_root}/##g" "$tmp_stderr" >"${out_dir}/${name}.stderr"
  fi

  summary="$(grep -E 'Testing complete\.' "${out_dir}/${name}.txt" | tail -n1 || true)"
  printf '%-55s exit=%d json=%s %s\n' "$name" "$rc" \
    "$([[ -f "$json" ]] && echo yes || echo no)" "${summary:-"(no summary line)"}" >&2
done

# Guard: nothing machine-specific may leak into the golden files.
if grep -rlE "${repo_root}|${shared}|${HOME}/" "$out_dir" >/dev/null 2>&1; then
  echo "update-kunit-py-golden.sh: machine-specific paths found in:" >&2
  grep -rlE "${repo_root}|${shared}|${HOME}/" "$out_dir" >&2
  exit 1
fi
