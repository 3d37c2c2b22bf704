#!/usr/bin/env bash
# npm run test:dates: the date-sensitive test files on the dates where date code goes wrong (new
# year, a month end, a leap day, the 1st of a month, both Europe/London clock changes), with the
# whole stack (vitest and its workers, the PostgreSQL server, moto_server) under libfaketime.
# The clock starts at each date and runs on. Usage: test:dates [-- 'YYYY-MM-DD HH:MM:SS' ...]
set -uo pipefail
cd "$(dirname "$0")/../.."

# Dates in UTC. Those marked London run the PostgreSQL server in Europe/London, one minute
# before its clocks change (01:00 UTC both times); the schedule tests use Europe/London always.
DEFAULT_DATES=(
  '2027-01-01 00:10:00'
  '2027-01-31 23:50:00'
  '2028-02-29 23:30:00'
  '2027-03-28 00:59:00 London'
  '2027-10-31 00:59:00 London'
  '2027-06-01 00:05:00'
)
# Only the files whose data or expectations come from the clock (the full suite would take
# most of an hour over six dates on two cores).
FILES=(
  test/unit
  test/integration/retention-partitions.test.ts
  test/integration/retention-premake-clock-change.test.ts
  test/integration/retention.test.ts
  test/integration/retention-range-batches.test.ts
  test/integration/roles.test.ts
  test/integration/backup-cycle.test.ts
  test/integration/health-checks.test.ts
  test/integration/health-connection.test.ts
  test/integration/report-databases.test.ts
)
# PGMAINT_TEST_DATES_FILES="a.test.ts b.test.ts" runs only those (while fixing one of them).
[ -n "${PGMAINT_TEST_DATES_FILES:-}" ] && read -r -a FILES <<<"$PGMAINT_TEST_DATES_FILES"

fail() {
  echo "test:dates: $*" >&2
  exit 1
}

faketime_library() {
  dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$'
}

lib=$(faketime_library || true)
if [ -z "$lib" ]; then
  echo "test:dates: libfaketime is not installed; installing Debian's faketime package" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y faketime >&2 || { apt-get update >&2 && apt-get install -y faketime >&2; }
  else
    sudo -n apt-get install -y faketime >&2
  fi
  lib=$(faketime_library || true)
  [ -n "$lib" ] || fail "could not install libfaketime (apt-get install -y faketime); install it and run again"
fi
[ -r "$lib" ] || fail "$lib is not readable"

logs=$(mktemp -d -t pgmaint-test-dates-XXXXXX)
# The postgres user must reach the shim: the log directory is made readable, not the checkout.
chmod 755 "$logs"
shim="$logs/waits-shim.so"
command -v gcc >/dev/null || fail "gcc is needed to build test/dates/waits-shim.c (apt-get install -y gcc)"
gcc -O2 -shared -fPIC -Wall -Wextra -Werror -o "$shim" test/dates/waits-shim.c ||
  fail "could not build test/dates/waits-shim.c"
chmod 755 "$shim"

dates=("$@")
[ ${#dates[@]} -gt 0 ] || dates=("${DEFAULT_DATES[@]}")

# Two dates at a time: each has its own PostgreSQL and moto_server, and the suite waits on them
# as much as it computes.
parallel=${PGMAINT_TEST_DATES_PARALLEL:-2}
started=$SECONDS

run_date() {
  local spec=$1 date zone iso log rc begun pid
  date=${spec% London}
  zone=UTC
  [ "$date" != "$spec" ] && zone=Europe/London
  iso="${date/ /T}Z"
  log="$logs/${date//[: ]/-}.log"
  echo "=== $date UTC (PostgreSQL TimeZone $zone): ${#FILES[@]} test paths, log $log"
  begun=$SECONDS
  # The outer bash is the first faked process: libfaketime creates the shared clock
  # (/dev/shm/faketime_shm_<pid>) that FAKETIME_DONT_RESET lets every child continue instead of
  # starting at the date again. It is made readable to the postgres user the server runs as,
  # then bash becomes vitest (same pid, same clock). TZ=UTC: libfaketime reads FAKETIME in
  # local time, and a London wall-clock time is ambiguous when the clocks go back. The shim goes
  # first so PostgreSQL's timeouts see the faked clock (see waits-shim.c).
  env TZ=UTC LD_PRELOAD="$shim $lib" FAKETIME="@$date" FAKETIME_DONT_RESET=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
    NO_COLOR=1 PGMAINT_TEST_FAKED_NOW="$iso" PGMAINT_TEST_PG_TIMEZONE="$zone" \
    bash -c 'chmod 666 "/dev/shm/faketime_shm_$$" "/dev/shm/sem.faketime_sem_$$" || exit 97
      exec node_modules/.bin/vitest run --reporter=default "$@"' vitest "${FILES[@]}" >"$log" 2>&1 &
  pid=$!
  wait "$pid"
  rc=$?
  rm -f "/dev/shm/faketime_shm_$pid" "/dev/shm/sem.faketime_sem_$pid"
  local tests clock
  tests=$(grep -E '^ +Tests ' "$log" | tail -1 | sed -E 's/^ +Tests +//')
  clock=$(grep -m1 '^faked clock:' "$log" || true)
  echo "    $date: ${clock:-faked clock: not confirmed}"
  if [ "$rc" -eq 0 ] && [ -n "$clock" ]; then
    echo "PASS  $date UTC ($zone)  ${tests:-?}  $((SECONDS - begun)) s" >"$log.summary"
  else
    {
      echo "FAIL  $date UTC ($zone)  ${tests:-no test summary (exit $rc)}  $((SECONDS - begun)) s  $log"
      grep -E '^ +(FAIL|×) |[Ee]rror: |faked clock not in effect' "$log" | sort -u | head -40 | sed 's/^/      /'
    } >"$log.summary"
  fi
}

for spec in "${dates[@]}"; do
  [[ "${spec% London}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] ||
    fail "\"$spec\" is not 'YYYY-MM-DD HH:MM:SS' (UTC), optionally followed by ' London'"
done

running=0
for spec in "${dates[@]}"; do
  run_date "$spec" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

echo
echo "test:dates summary ($((SECONDS - started)) s):"
failed=0
for spec in "${dates[@]}"; do
  date=${spec% London}
  summary="$logs/${date//[: ]/-}.log.summary"
  if [ -f "$summary" ]; then sed 's/^/  /' "$summary"; else echo "  FAIL  $date UTC  did not report"; fi
  grep -q '^PASS ' "$summary" 2>/dev/null || failed=1
done
# The logs are kept only when a date failed: they are what explains it.
if [ "$failed" -eq 0 ]; then
  rm -rf "$logs"
  echo "test:dates: every date passed"
else
  echo "test:dates: some dates FAILED (logs in $logs)" >&2
fi
exit "$failed"
