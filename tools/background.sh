#!/usr/bin/env bash
# tools/background.sh LOG BG... -- FG...
# Runs BG in the background (its output in LOG) while FG runs, then waits for BG: the status is
# FG's if it failed, else BG's (with the end of LOG). When FG fails, or this script is
# interrupted, BG and all its children are stopped (it runs in a process group of its own).
set -uo pipefail
log=$1
shift
bg=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do bg+=("$1"); shift; done
[ $# -gt 0 ] || { echo "usage: $0 LOG BG... -- FG..." >&2; exit 2; }
shift

set -m # the background job gets a process group of its own
"${bg[@]}" >"$log" 2>&1 &
pid=$!
set +m
stop() { kill -TERM -- "-$pid" 2>/dev/null; }
trap stop EXIT
trap 'exit 130' INT TERM HUP
echo "background: ${bg[*]} (output: $log)" >&2

"$@"
rc=$?
[ $rc -eq 0 ] || exit $rc
if kill -0 "$pid" 2>/dev/null; then
  echo "background: waiting for ${bg[*]}" >&2
  start=$SECONDS
fi
wait "$pid"
rc=$?
trap - EXIT
[ -n "${start:-}" ] && echo "background: done after $((SECONDS - start)) s more" >&2
if [ $rc -ne 0 ]; then
  tail -n 40 "$log" >&2
  echo "background: ${bg[*]} failed ($rc); all its output: $log" >&2
fi
exit $rc
