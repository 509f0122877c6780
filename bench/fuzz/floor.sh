#!/usr/bin/env bash
# bench/fuzz/floor.sh — what each fuzzing engine costs per input on this
# machine, with a target that does nothing.
#
# Usage: bench/fuzz/floor.sh [SECONDS]   (default 15 per engine)
# Builds two targets that only read their input — AFL++ persistent mode
# with shared-memory inputs (afl-clang-fast), and libFuzzer (clang
# -fsanitize=fuzzer) — and fuzzes each for SECONDS on one core (taskset -c
# 0), as bench/fuzz/run.sh runs the loop target.  The exec/s printed is
# the engine's ceiling here: an input of the loop target costs
# 1/loop_rate - 1/floor_rate of target time.  AFL++'s floor is its
# per-input round trip (the target stops itself with SIGSTOP, the fork
# server reports, afl-fuzz writes the next input and resumes it: a dozen
# system calls and four context switches on the fuzzed core); libFuzzer's
# is a function call and its mutation.
set -euo pipefail
secs=${1:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir in
echo hello > in/a

echo "engine floor, one core (taskset -c 0), $secs s each, a target that only reads its input (load average $(cut -d' ' -f1-3 /proc/loadavg))"
if command -v afl-clang-fast >/dev/null && command -v afl-fuzz >/dev/null; then
  cat > afl.c <<'C'
#include <unistd.h>     /* __AFL_FUZZ_TESTCASE_LEN reads stdin outside afl-fuzz */

__AFL_FUZZ_INIT();
volatile unsigned sum;

int main(void)
{
    __AFL_INIT();
    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(100000)) {
        int len = __AFL_FUZZ_TESTCASE_LEN;

        for (int i = 0; i < len; i++) {
            sum += buf[i] == 'x' ? 1u : 2u;
        }
    }
    return 0;
}
C
  AFL_QUIET=1 afl-clang-fast -O2 -Wall -Wextra -Werror afl.c -o afl-noop
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
    AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 taskset -c 0 \
    afl-fuzz -i in -o out -V "$secs" -- ./afl-noop > afl.log 2>&1 ||
    { tail -20 afl.log >&2; echo "AFL++: FAILED" >&2; }
  execs=$(sed -n 's/^execs_done *: *//p' out/default/fuzzer_stats)
  printf '%-34s %8d exec/s  (%.1f us per input)\n' "AFL++ persistent, shared memory" \
    "$((execs / secs))" "$(awk -v e="$execs" -v s="$secs" 'BEGIN {print s * 1e6 / e}')"
else
  echo "AFL++: not installed (apt-get install afl++)"
fi
if command -v clang >/dev/null; then
  cat > lf.c <<'C'
#include <stddef.h>
#include <stdint.h>
volatile unsigned sum;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        sum += data[i] == 'x' ? 1u : 2u;
    }
    return 0;
}
C
  if clang -O2 -Wall -Wextra -Werror -fsanitize=fuzzer lf.c -o lf-noop 2>/dev/null; then
    mkdir lfc && cp in/a lfc/
    taskset -c 0 ./lf-noop -max_total_time="$secs" -print_final_stats=1 lfc \
      > lf.log 2>&1 || { tail -20 lf.log >&2; echo "libFuzzer: FAILED" >&2; }
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' lf.log)
    printf '%-34s %8s exec/s  (%.1f us per input)\n' "libFuzzer" "$eps" \
      "$(awk -v e="$eps" 'BEGIN {print 1e6 / e}')"
  else
    echo "libFuzzer: clang cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev)"
  fi
fi
