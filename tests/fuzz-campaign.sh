#!/bin/sh
# tests/fuzz-campaign.sh — campaign hygiene of `qloop fuzz` and `qloop
# corpus minimize`: the engine command lines (through --dry-run: no build,
# no tools needed); the campaign loop with a stand-in libFuzzer (a script):
# restarts after crashes at one job, the live execution counter, the triage
# of what it left; and a real minimization that shrinks a corpus with
# duplicated inputs and leaves the corpus untouched when the engine fails or
# is stopped.
# Usage: fuzz-campaign.sh BIN_DIR SOURCE_DIR BUILD_DIR
# Exit 0 pass, 1 fail, 77 (ctest's skip) when the command lines pass but
# clang's libFuzzer runtime is missing for the minimization part.
set -u
bin=$1/qloop
src=$2
build=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-fuzz-campaign.XXXXXX")
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() {   # check NAME COMMAND...: the command's status is the verdict
    name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

# ---- libFuzzer command lines -------------------------------------------------
max_len=$(sed -n 's/^max_len *= *//p' "$src/fuzz/loop.options")
"$bin" fuzz --dry-run --jobs 1 -o "$tmp/out" > "$tmp/lf1" 2>"$tmp/err"
check "libfuzzer --jobs 1: one command line" test "$(wc -l < "$tmp/lf1")" = 1
check "libfuzzer --jobs 1: no -fork" sh -c "! grep -q -- '-fork' '$tmp/lf1'"
check "libfuzzer --jobs 1: -max_len=$max_len from fuzz/loop.options" \
    grep -q -- "'-max_len=$max_len'" "$tmp/lf1"
check "libfuzzer: -timeout from the .options" grep -q -- "'-timeout=30'" "$tmp/lf1"
check "libfuzzer: the targets count executions" grep -q "QLOOP_FUZZ_EXECS=" "$tmp/lf1"
check "libfuzzer: sc unless asked (no QLOOP_SIM_MEMORY)" \
    sh -c "! grep -q QLOOP_SIM_MEMORY '$tmp/lf1'"
"$bin" fuzz --dry-run --jobs 1 --memory tso -o "$tmp/out" > "$tmp/lfm" 2>"$tmp/err"
check "libfuzzer --memory tso: the targets inherit QLOOP_SIM_MEMORY=tso" \
    grep -q "^QLOOP_SIM_MEMORY=tso " "$tmp/lfm"
"$bin" fuzz --dry-run --jobs 2 -o "$tmp/out" > "$tmp/lf2" 2>"$tmp/err"
check "libfuzzer --jobs 2: -fork=2" grep -q -- "'-fork=2'" "$tmp/lf2"
check "libfuzzer --jobs 2: -max_len" grep -q -- "'-max_len=$max_len'" "$tmp/lf2"
"$bin" fuzz --dry-run --jobs 1 --target scn-parse -o "$tmp/out" > "$tmp/scn" 2>&1
smax=$(sed -n 's/^max_len *= *//p' "$src/fuzz/scn-parse.options")
check "scn-parse: its own max_len ($smax)" grep -q -- "'-max_len=$smax'" "$tmp/scn"

# ---- AFL++ command lines -----------------------------------------------------
jobs=8
"$bin" fuzz --dry-run --engine afl --jobs $jobs -o "$tmp/out" > "$tmp/afl" 2>"$tmp/err"
check "afl: $jobs command lines" test "$(wc -l < "$tmp/afl")" = $jobs
# Instance names: the word after -M/-S.
sed -n "s/.*'-[MS]' '\([^']*\)'.*/\1/p" "$tmp/afl" > "$tmp/names"
check "afl: every instance named" test "$(wc -l < "$tmp/names")" = $jobs
check "afl: names unique" test "$(sort -u "$tmp/names" | wc -l)" = $jobs
check "afl: exactly one -M" test "$(grep -c "'-M'" "$tmp/afl")" = 1
host=$(head -n 1 "$tmp/names" | sed 's/^main-//')
check "afl: the main is main-<host> ($host)" grep -q "^main-[A-Za-z0-9-]\{1,\}$" "$tmp/names"
check "afl: secondaries carry the host" \
    sh -c "tail -n +2 '$tmp/names' | grep -v -q '^$host-s' && exit 1 || exit 0"
# A secondary's variation: its command line without its name.
grep "'-S'" "$tmp/afl" | sed "s/'-S' '[^']*'//" | sort > "$tmp/variants"
check "afl: secondaries all differ" \
    test "$(sort -u "$tmp/variants" | wc -l)" = $((jobs - 1))
check "afl: a CMPLOG secondary with -l AT" \
    sh -c "grep \"'-S'\" '$tmp/afl' | grep \"'-c'\" | grep -q \"'-l' 'AT'\""
check "afl: a sanitizer-build secondary" grep -q "/aflsan/loop-fuzz'" "$tmp/afl"
check "afl: MOpt (-L 0) on some" grep -q "'-L' '0'" "$tmp/afl"
check "afl: power schedules vary" \
    test "$(grep -o "'-p' '[a-z]*'" "$tmp/afl" | sort -u | wc -l)" -ge 3
check "afl: -G max_len on every instance" \
    test "$(grep -c "'-G' '$max_len'" "$tmp/afl")" = $jobs
"$bin" fuzz --dry-run --engine afl --jobs 2 --sync-dir "$tmp/sync" -o "$tmp/out" \
    > "$tmp/sync.out" 2>"$tmp/err"
check "--sync-dir: secondaries only" sh -c "! grep -q \"'-M'\" '$tmp/sync.out'"
check "--sync-dir: -o is the sync directory" grep -q "'-o' '$tmp/sync'" "$tmp/sync.out"

# ---- the campaign loop, with a stand-in libFuzzer ------------------------------
# A source tree whose fuzz/build.sh builds nothing and whose "libFuzzer" is
# a script: it bumps the execution counter to 10000, crashes on its first
# two runs (a crash file, exit 1) and then runs until -max_total_time.  At
# one job qloop fuzz must restart it after each crash, with no -fork.
fake=$tmp/fake-src
mkdir -p "$fake/fuzz" "$fake/corpus/loop" "$fake/build/fuzz/libfuzzer" "$tmp/fakebin"
printf '#!/bin/sh\nexit 0\n' > "$fake/fuzz/build.sh"
printf '#!/bin/sh\nexit 0\n' > "$tmp/fakebin/clang"
cp "$src/fuzz/loop.options" "$fake/fuzz/"
printf '\001\002' > "$fake/corpus/loop/seed"
cat > "$fake/build/fuzz/libfuzzer/loop-fuzz" <<'FAKE'
#!/bin/sh
dir=$(dirname "$0")
n=$(($(cat "$dir/runs" 2>/dev/null || echo 0) + 1))
echo $n > "$dir/runs"
echo "$*" >> "$dir/argv"
for a in "$@"; do
    case $a in
        -artifact_prefix=*) prefix=${a#-artifact_prefix=} ;;
        -max_total_time=*) t=${a#-max_total_time=} ;;
    esac
done
printf '\020\047\0\0\0\0\0\0' | dd of="$QLOOP_FUZZ_EXECS" conv=notrunc status=none
if [ "$n" -le 2 ]; then printf '\377\376%s' "$n" > "${prefix}crash-$n"; exit 1; fi
exec sleep "$t"
FAKE
chmod +x "$fake/fuzz/build.sh" "$tmp/fakebin/clang" "$fake/build/fuzz/libfuzzer/loop-fuzz"
# Triage runs the qloop built beside the target: here, the real one.
ln -s "$(cd "$(dirname "$bin")" && pwd)/qloop" "$fake/build/fuzz/libfuzzer/qloop"
PATH=$tmp/fakebin:$PATH QLOOP_SOURCE_DIR=$fake \
    "$bin" fuzz --jobs 1 --time 8 -o "$tmp/camp" > "$tmp/camp.out" 2> "$tmp/camp.err"
st=$?
check "stand-in campaign: crash files make exit 1" test $st = 1
check "stand-in campaign: restarted after each crash" \
    test "$(grep -c 'restarting it' "$tmp/camp.err")" = 2
check "stand-in campaign: three runs of the engine" \
    test "$(cat "$fake/build/fuzz/libfuzzer/runs")" = 3
check "stand-in campaign: never -fork" \
    sh -c "! grep -q -- -fork '$fake/build/fuzz/libfuzzer/argv'"
check "stand-in campaign: the progress line reads the targets' counter" \
    grep -q "execs 10000 " "$tmp/camp.err"
check "stand-in campaign: both crash files triaged" \
    grep -q "2 crash files" "$tmp/camp.out"

# ---- usage errors: one line, exit 2 ------------------------------------------
usage() {   # usage NAME COMMAND...
    name=$1; shift
    "$@" > "$tmp/out" 2> "$tmp/err"
    st=$?
    if [ $st = 2 ] && [ "$(wc -l < "$tmp/err")" = 1 ]; then
        ok "$name"
    else
        bad "$name: exit $st, stderr:"; sed 's/^/     /' "$tmp/err" | head -5
    fi
}
usage "fuzz --sync-dir with libFuzzer" "$bin" fuzz --dry-run --sync-dir "$tmp/s"
usage "fuzz --jobs -1" "$bin" fuzz --dry-run --jobs -1
usage "fuzz --engine honggfuzz" "$bin" fuzz --dry-run --engine honggfuzz
usage "corpus without subcommand" "$bin" corpus
usage "corpus frobnicate" "$bin" corpus frobnicate "$tmp"
usage "minimize a missing directory" "$bin" corpus minimize "$tmp/none"
mkdir "$tmp/empty"
usage "minimize an empty directory" "$bin" corpus minimize "$tmp/empty"

# ---- minimization ----------------------------------------------------------
if ! "$src/fuzz/check-libfuzzer.sh"; then
    echo "$pass passed, $fail failed; minimization SKIPPED (no libFuzzer)"
    [ "$fail" -eq 0 ] && exit 77
    exit 1
fi
"$src/fuzz/build.sh" libfuzzer --out "$build/fuzz" >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log"; bad "fuzz/build.sh libfuzzer"; exit 1; }
target=$build/fuzz/libfuzzer/loop-fuzz

# The seed corpus twice over: every input has a byte-identical twin.
mkdir "$tmp/c"
for f in "$src"/corpus/loop/*; do
    cp "$f" "$tmp/c/"; cp "$f" "$tmp/c/$(basename "$f").dup"
done
seeds=$(ls "$src/corpus/loop" | wc -l)
snapshot() { (cd "$1" && ls -a && cat ./* | cksum); }
snapshot "$tmp/c" > "$tmp/c.before"
leftovers() { ls -a "$tmp" | grep -q '\.minimize-'; }

# An engine that fails: the corpus stays as it was, nothing left behind.
"$bin" corpus minimize "$tmp/c" --binary /bin/false > "$tmp/out" 2> "$tmp/err"
check "minimize: a failing engine exits 1" test $? = 1
snapshot "$tmp/c" > "$tmp/c.after"
check "minimize: failure keeps the original" cmp -s "$tmp/c.before" "$tmp/c.after"
check "minimize: failure names the engine's log" grep -q "untouched" "$tmp/err"
rm -f "$tmp"/.c.minimize-*.log

# An engine stopped by SIGTERM (and its process group with it).
printf '#!/bin/sh\necho $$ > "%s"\nexec sleep 60\n' "$tmp/slow.pid" > "$tmp/slow"
chmod +x "$tmp/slow"
"$bin" corpus minimize "$tmp/c" --binary "$tmp/slow" > "$tmp/out" 2> "$tmp/err" &
pid=$!
sleep 1
kill -TERM $pid
wait $pid
check "minimize: SIGTERM exits 1" test $? = 1
snapshot "$tmp/c" > "$tmp/c.after"
check "minimize: SIGTERM keeps the original" cmp -s "$tmp/c.before" "$tmp/c.after"
check "minimize: SIGTERM leaves no staging directory" sh -c "! ls -a '$tmp' | grep -q minimize"
check "minimize: the engine was stopped" sh -c "! kill -0 \$(cat '$tmp/slow.pid') 2>/dev/null"

# -o: a fresh directory, the input kept.
"$bin" corpus minimize "$tmp/c" --binary "$target" -o "$tmp/min" > "$tmp/out" 2> "$tmp/err"
check "minimize -o: exit 0" test $? = 0
n=$(ls "$tmp/min" | wc -l)
check "minimize -o: $((2 * seeds)) -> $n files, no more than the $seeds distinct" \
    test "$n" -ge 1 -a "$n" -le "$seeds"
snapshot "$tmp/c" > "$tmp/c.after"
check "minimize -o: the input is kept" cmp -s "$tmp/c.before" "$tmp/c.after"
check "minimize: prints before and after" grep -q "$((2 * seeds)) files.* -> $n files" "$tmp/out"
usage "minimize -o into a non-empty directory" \
    "$bin" corpus minimize "$tmp/c" --binary "$target" -o "$tmp/min"

# In place: the directory now holds the minimized corpus.
"$bin" corpus minimize "$tmp/c/" --binary "$target" > "$tmp/out" 2> "$tmp/err"
check "minimize in place: exit 0" test $? = 0
check "minimize in place: shrunk" test "$(ls "$tmp/c" | wc -l)" -le "$seeds"
check "minimize in place: nothing left behind" sh -c "! ls -a '$tmp' | grep -q minimize"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
