#!/bin/bash
# bench/run.sh — build the benchmarks (Release, build/bench), run qloop,
# glib, libev and libuv on the same work, one after the other, and print one
# Markdown table per benchmark.  The tables, the exact command, date, kernel,
# CPU and library versions go to bench/RESULTS.md and into bench/README.md
# (between the results markers).
#
# Usage: bench/run.sh [-q]
#   -q  quick smoke run (~10x shorter windows); writes build/bench/RESULTS.md
#       and leaves bench/ untouched.
# The full run takes about a minute and a half on 2 cores.  Run it on an
# otherwise idle machine: the programs share the CPUs with everything else.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/bench"
quick=""
case "${1-}" in
    "") ;;
    -q) quick="-q" ;;
    *) echo "usage: bench/run.sh [-q]" >&2; exit 2 ;;
esac
command="bench/run.sh${quick:+ $quick}"

"$root/bench/deps.sh"

mkdir -p "$build"
log="$build/bench-build.log"
build() {
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
          -DBUILD_TESTING=OFF -DQLOOP_BUILD_BENCH=ON || return 1
    cmake --build "$build" -j2 --target bench-floor bench-qloop bench-glib ||
        return 1
    # CMake leaves out bench-libev/bench-libuv if the library is missing.
    for t in bench-libev bench-libuv; do
        if cmake --build "$build" --target help | grep -q "$t"; then
            cmake --build "$build" -j2 --target "$t" || return 1
        fi
    done
}
# Quiet unless it fails; then show why.
if ! build >"$log" 2>&1; then
    cat "$log" >&2
    echo "bench/run.sh: build failed (log: $log)" >&2
    exit 1
fi

raw="$build/bench-raw.txt"
: >"$raw"
# How idle the CPUs are just before the run (1 s sample of /proc/stat):
# the load average lags by minutes, this does not.
cpu_idle_pct() {
    local a b
    read -r -a a </proc/stat
    sleep 1
    read -r -a b </proc/stat
    awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
        n = split(a, x, " "); split(b, y, " "); t = 0
        for (i = 2; i <= 9 && i <= n; i++) t += y[i] - x[i]
        printf "%d", (t > 0 ? 100 * ((y[5] - x[5]) + (y[6] - x[6])) / t : 100) }'
}
idle_before=$(cpu_idle_pct)
libs=""
for lib in floor qloop glib libev libuv; do
    if [ -x "$build/bench/bench-$lib" ]; then
        libs="$libs $lib"
    else
        echo "# bench-$lib not built (missing library?)" | tee -a "$raw" >&2
    fi
done
run() {                 # run LIB ARGS...: one program, output kept in $raw
    local exe="$build/bench/bench-$1"
    shift
    echo "running $(basename "$exe") $*" >&2
    "$exe" "$@" | tee -a "$raw" >&2
}
# bh, timer, fd: each program takes the median of its own 5 windows.
for lib in $libs; do
    # shellcheck disable=SC2086  # $quick is empty or one flag
    run "$lib" $quick bh timer fd
done
# wake: the slowest and noisiest (its two-CPU case depends on the host),
# so interleave the libraries over 3 rounds; the tables take the median.
for _round in 1 2 3; do
    for lib in $libs; do
        # shellcheck disable=SC2086
        run "$lib" $quick --wake-reps=1 wake
    done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git -C "$root" status --porcelain -- loop include bench 2>/dev/null)" ]; then
    rev="$rev + uncommitted changes"
fi

results="$build/RESULTS.md"
{
    echo "Command: \`$command\` (from the repository root)"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Kernel: \`$(uname -r)\`; CPU: $cpu, $(nproc) online;" \
         "CPUs ${idle_before}% idle in the second before the run"
    echo "- Compiler: $(gcc --version | head -n1), CMake Release (-O3)"
    echo "- qloop $rev"
    if [ "$idle_before" -lt 90 ]; then
        echo "- **Warning:** the CPUs were only ${idle_before}% idle when the" \
             "run started; other work shared them and the numbers are noisy."
    fi
    echo
    awk -f - "$raw" <<'AWK'
# Input: "<metric> <lib> <value>" lines; '#' lines are comments.
# A (metric, lib) seen several times (wake rounds) reports the median.
/^#/ {
    if ($0 ~ /^# .* fd n=|backend/ && !(($0) in seen)) {
        seen[$0] = 1; notes[++nnotes] = substr($0, 3)
    }
    next
}
NF >= 3 && $1 == "lib_version" { ver[$2] = $3; next }
NF >= 3 { k = $1 SUBSEP $2; n[k]++; all[k, n[k]] = $3 + 0 }

function median(k,   i, j, c, t, a) {
    c = n[k]
    for (i = 1; i <= c; i++) a[i] = all[k, i]
    for (i = 2; i <= c; i++)            # insertion sort: c is 1..3
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}

function has(m, l) { return ((m, l) in v) }
function cell(m, l, fmt) { return has(m, l) ? sprintf(fmt, v[m, l]) : "n/a" }
function kps(m, l) {
    if (!has(m, l)) return "n/a"
    return sprintf(v[m, l] < 10000 ? "%.1f k" : "%.0f k", v[m, l] / 1000)
}
function row4(label, m, fmt,   s) {
    s = "| " label
    s = s " | " cell(m, "qloop", fmt) " | " cell(m, "glib", fmt)
    s = s " | " cell(m, "libev", fmt) " | " cell(m, "libuv", fmt)
    return s
}
function verdict(ok) { return ok ? "met" : "**missed**" }

END {
    for (k in n) v[k] = median(k)
    printf "- Libraries: glib %s, libev %s, libuv %s, qloop %s\n\n",
        ver["glib"], ver["libev"], ver["libuv"], ver["qloop"]
    printf "Machine floor (bench-floor): bare syscall %s ns, ppoll(1 fd, 0) %s ns.\n\n",
        cell("syscall_ns", "bare", "%.0f"), cell("ppoll0_ns", "bare", "%.0f")

    print "### BH throughput: ns per callback (lower is better)\n"
    print "| | qloop | glib | libev | libuv | QEMU 10.0.13 | qloop target |"
    print "|---|---:|---:|---:|---:|---:|---|"
    m = "bh_ns_per_cb"
    printf "%s | 36–64 | ≤ 64 ns: %s |\n\n", row4("self-rescheduling BH", m, "%.1f"),
        has(m, "qloop") ? verdict(v[m, "qloop"] <= 64) : "n/a"

    print "### Timer churn: ns per re-arm of a random timer among 1 000 (lower is better)\n"
    print "| | qloop | glib | libev | libuv | qloop target |"
    print "|---|---:|---:|---:|---:|---|"
    m = "timer_ns_per_op"
    printf "%s | < 100 ns: %s |\n\n", row4("cancel + re-arm", m, "%.1f"),
        has(m, "qloop") ? verdict(v[m, "qloop"] < 100) : "n/a"

    print "### Cross-thread wake-up: BH round trip in µs, both sides blocking (lower is better)\n"
    print "| | qloop | glib | libev | libuv | bare eventfd | QEMU 10.0.13 | qloop target |"
    print "|---|---:|---:|---:|---:|---:|---:|---|"
    split("same_cpu cross_cpu", modes, " ")
    for (i = 1; i <= 2; i++) {
        mm = "wake_" modes[i] "_median_us"; mp = "wake_" modes[i] "_p99_us"
        if (!has(mm, "qloop") && !has(mm, "bare")) continue
        where = modes[i] == "same_cpu" ? "one CPU" : "two CPUs"
        t = has(mm, "qloop") ? verdict(v[mm, "qloop"] <= 8) : "n/a"
        if (has(mm, "qloop") && v[mm, "qloop"] > 8 && has(mm, "bare") && v[mm, "bare"] > 8)
            t = t sprintf(" (bare floor %.1f)", v[mm, "bare"])
        printf "%s | %s | 6–8 | ≤ 8 µs: %s |\n", row4("median, " where, mm, "%.1f"),
            cell(mm, "bare", "%.1f"), t
        printf "%s | %s | | |\n", row4("p99, " where, mp, "%.1f"), cell(mp, "bare", "%.1f")
    }
    print ""

    print "### Fd dispatch scaling: polls per second, 1 readable fd among N idle (higher is better)\n"
    print "| idle fds | qloop | glib | libev | libuv | bare epoll_wait | qloop vs its 1-fd rate |"
    print "|---:|---:|---:|---:|---:|---:|---|"
    split("1 100 1000 10000", sizes, " ")
    base = "fd_polls_per_s_1"
    for (i = 1; i <= 4; i++) {
        m = "fd_polls_per_s_" sizes[i]
        ratio = -1
        if (has(m, "qloop") && has(base, "qloop") && v[base, "qloop"] > 0)
            ratio = v[m, "qloop"] / v[base, "qloop"]
        rs = ratio < 0 ? "n/a" : sprintf("%.2f", ratio)
        if (sizes[i] == "10000" && ratio >= 0) rs = rs " (≥ 0.80: " verdict(ratio >= 0.8) ")"
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", sizes[i], kps(m, "qloop"),
            kps(m, "glib"), kps(m, "libev"), kps(m, "libuv"), kps(m, "bare"), rs
    }
    print "\nQEMU 10.0.13 reference: 440–540 k polls/s at 10 000 idle fds, flat."
    if (nnotes) {
        print "\nNotes from the run:"
        for (i = 1; i <= nnotes; i++) print "- " notes[i]
    }
}
AWK
} >"$results"

echo >&2
cat "$results"
if [ -z "$quick" ]; then
    cp "$results" "$root/bench/RESULTS.md"
    readme="$root/bench/README.md"
    if grep -q '^<!-- results:begin -->$' "$readme" 2>/dev/null; then
        awk -v results="$results" '
            /^<!-- results:begin -->$/ { print; while ((getline l < results) > 0) print l; skip = 1; next }
            /^<!-- results:end -->$/ { skip = 0 }
            !skip { print }' "$readme" >"$readme.tmp"
        mv "$readme.tmp" "$readme"
    fi
    echo "wrote bench/RESULTS.md and the results section of bench/README.md" >&2
fi
