#!/bin/sh
# tests/cli.sh — the qloop command end to end: exit codes, one-line errors
# for bad input, replay round trips, shrink, explore, trace exports.
# Usage: cli.sh BIN_DIR SOURCE_DIR
set -u
bin=$1/qloop
bug2=$1/qloop-notify-bug2
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# expect STATUS NAME COMMAND...: exit status and, for 2, exactly one line
# on stderr that starts with the file name given in $file.
expect() {
    want=$1; name=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$want" ]; then
        bad "$name: exit $got, expected $want"; sed 's/^/     /' "$tmp/err" | head -5
        return
    fi
    if [ "$want" = 2 ] && [ -n "${file:-}" ]; then
        lines=$(wc -l < "$tmp/err")
        if [ "$lines" != 1 ] || ! grep -q "^$file:[0-9]*: " "$tmp/err"; then
            bad "$name: stderr is not one '$file:LINE: ...' line:"
            sed 's/^/     /' "$tmp/err" | head -5
            return
        fi
    fi
    ok "$name"
}

# ---- usage and help ---------------------------------------------------------
file= expect 2 "no command" "$bin"
file= expect 0 "--help" "$bin" --help
for c in run replay shrink explore fuzz corpus; do
    file= expect 0 "$c --help" "$bin" "$c" --help
done
file= expect 2 "unknown command" "$bin" frobnicate
file= expect 2 "unknown option" "$bin" run --frob "$src/docs/examples/bh-order.scn"
file= expect 2 "run without file" "$bin" run

# ---- bad input: one line, exit 2 ---------------------------------------------
file=$tmp/missing.scn
expect 2 "missing file" "$bin" run "$file"
file=$tmp/typo.scn
printf 'bh A\nthread main {\n  scedule A\n}\n' > "$file"
expect 2 "unknown operation" "$bin" run "$file"
file=$tmp/kind.scn
printf 'timer T virtual\nthread main { schedule T }\n' > "$file"
expect 2 "wrong object kind" "$bin" run "$file"
file=$tmp/poller.scn
printf 'bh A\nthread main { schedule A }\nthread t { poll }\n' > "$file"
expect 2 "poll outside the home thread" "$bin" run "$file"
file=$tmp/co-yield.scn
printf 'coroutine C\nthread main {\n  co_yield\n}\n' > "$file"
expect 2 "co_yield outside a coroutine" "$bin" run "$file"
grep -q "^$file:3: 'co_yield' in thread 'main'" "$tmp/err" && ok "co_yield: its line" ||
    bad "co_yield: not its line: $(cat "$tmp/err")"
file=$tmp/co-enter.scn
printf 'coroutine C\nthread main { co_wake C }\nthread t { co_enter C }\n' > "$file"
expect 2 "co_enter outside the home thread" "$bin" run "$file"
file=$tmp/co-poll.scn
printf 'coroutine C { co_yield; poll }\nthread main { co_enter C }\n' > "$file"
expect 2 "poll in a coroutine body" "$bin" run "$file"
file=$tmp/co-lock-bh.scn
printf 'bh B { co_lock }\nthread main { schedule B; poll }\n' > "$file"
expect 2 "co_lock in a BH body" "$bin" run "$file"
file=$tmp/co-sleep.scn
printf 'coroutine C { co_sleep -1ms }\nthread main { co_enter C }\n' > "$file"
expect 2 "negative co_sleep" "$bin" run "$file"
file=$tmp/binary.scn
printf '\001\002\003\000\377' > "$file"
expect 2 "binary .scn" "$bin" run "$file"

"$bin" run "$src/docs/examples/bh-order.scn" --runs 1 >/dev/null
"$bin" replay -q "$src/docs/examples/bh-order.scn" -o "$tmp/good.replay" >/dev/null
file=$tmp/version.replay
sed 's/^qloop-replay 1$/qloop-replay 3/' "$tmp/good.replay" > "$file"
expect 2 "replay: other format version" "$bin" replay "$file"
grep -q "version 3 is not supported" "$tmp/err" && ok "replay: version message" \
    || bad "replay: version message"
file=$tmp/truncated.replay
head -n 8 "$tmp/good.replay" > "$file"
expect 2 "replay: truncated" "$bin" replay "$file"
file=$tmp/choice.replay
sed '8s/^[0-9]*/x/' "$tmp/good.replay" > "$file"
expect 2 "replay: bad choice" "$bin" replay "$file"
file=$tmp/scnerr.replay
sed 's/^thread main {$/thread main { schedule NOPE/' "$tmp/good.replay" > "$file"
expect 2 "replay: error inside the scenario" "$bin" replay "$file"

# ---- replay reproduces ----------------------------------------------------------
file= expect 0 "replay: same hash" "$bin" replay -q "$tmp/good.replay"
sed 's/^hash .*/hash 0123456789abcdef/' "$tmp/good.replay" > "$tmp/wrong-hash.replay"
file= expect 1 "replay: hash mismatch is a verdict" "$bin" replay -q "$tmp/wrong-hash.replay"
file= expect 0 "replay: --ignore-hash" "$bin" replay -q --ignore-hash "$tmp/wrong-hash.replay"

# ---- a known bug: found, replayed, shrunk -----------------------------------------
scn=$src/corpus/regressions/bug2-main-loop.scn
file= expect 1 "explore finds BUG2 in the variant" \
    "$bug2" explore "$scn" -k 2 -o "$tmp/bug2.replay"
file= expect 0 "explore exhausts the same space on the core" "$bin" explore "$scn" -k 2
grep -q "the bounded space is exhausted" "$tmp/out" && ok "explore: exhausted" \
    || bad "explore: exhausted"
grep -q "schedules, [0-9]* distinct outcomes (rate [0-9.]*), preemption bound 2 of 2" \
    "$tmp/out" && ok "explore: figures" || bad "explore: figures"
file= expect 1 "explore --order prefix finds BUG2" \
    "$bug2" explore "$scn" --order prefix -o "$tmp/bug2-prefix.replay"
file= expect 1 "explore --order dfs finds BUG2" \
    "$bug2" explore "$scn" --order dfs -o "$tmp/bug2-dfs.replay"
file= expect 1 "the prefix order's replay hangs again" \
    "$bug2" replay -q "$tmp/bug2-prefix.replay"
"$bin" explore "$scn" --order prefix --max-runs 300 > "$tmp/p1" 2>/dev/null
"$bin" explore "$scn" --order prefix --max-runs 300 > "$tmp/p2" 2>/dev/null
cmp -s "$tmp/p1" "$tmp/p2" && ok "explore --order prefix: same command, same figures" \
    || bad "explore --order prefix: same command, same figures"
file= expect 2 "explore: unknown order" "$bin" explore "$scn" --order bfs
file= expect 1 "the BUG2 replay hangs again" "$bug2" replay -q "$tmp/bug2.replay"
grep -q "lost wake-up" "$tmp/out" && ok "story names the lost wake-up" \
    || bad "story names the lost wake-up"
file= expect 0 "shrink BUG2" "$bug2" shrink "$tmp/bug2.replay" -o "$tmp/min.replay"
before=$(sed -n 's/^before: \([0-9]*\) ops.*/\1/p' "$tmp/out")
after=$(sed -n 's/^after: *\([0-9]*\) ops.*/\1/p' "$tmp/out")
if [ -n "$before" ] && [ -n "$after" ] && [ "$after" -le "$before" ]; then
    ok "shrink: $before -> $after ops"
else
    bad "shrink sizes: '$before' -> '$after'"
fi
file= expect 1 "shrunk replay still hangs" "$bug2" replay -q "$tmp/min.replay"
grep -q "lost wake-up" "$tmp/out" && ok "shrunk: still a lost wake-up" \
    || bad "shrunk: still a lost wake-up"

# ---- replay files name the core that made them ------------------------------------
# A variant's file carries "variant NAME" (line 3); a production file none.
sed -n 3p "$tmp/bug2.replay" | grep -qx 'variant notify-bug2' \
    && ok "variant replay: line 3 names the variant" \
    || bad "variant replay: line 3 names the variant"
sed -n 3p "$tmp/min.replay" | grep -qx 'variant notify-bug2' \
    && ok "shrunk variant replay: names the variant" \
    || bad "shrunk variant replay: names the variant"
grep -q '^variant' "$tmp/good.replay" && bad "production replay: no variant line" \
    || ok "production replay: no variant line"
file= expect 0 "variant shrink again" "$bug2" shrink "$tmp/min.replay" -o "$tmp/min2.replay"
grep -qx "replay: qloop-notify-bug2 replay $tmp/min2.replay" "$tmp/out" \
    && ok "shrink hint names the variant's binary" \
    || bad "shrink hint names the variant's binary: $(grep '^replay:' "$tmp/out")"
# qloop on a variant's file runs the variant's binary beside it.
file= expect 1 "qloop replay of a variant's file re-dispatches" \
    "$bin" replay -q "$tmp/bug2.replay"
grep -q "lost wake-up" "$tmp/out" && ok "re-dispatched: the variant's verdict" \
    || bad "re-dispatched: the variant's verdict"
grep -q "made by variant notify-bug2; running .*/qloop-notify-bug2$" "$tmp/err" \
    && [ "$(wc -l < "$tmp/err")" = 1 ] && ok "re-dispatch: one line on stderr" \
    || { bad "re-dispatch: one line on stderr"; sed 's/^/     /' "$tmp/err"; }
file= expect 0 "qloop shrink of a variant's file re-dispatches" \
    "$bin" shrink "$tmp/bug2.replay" -o "$tmp/min3.replay"
grep -qx "replay: qloop-notify-bug2 replay $tmp/min3.replay" "$tmp/out" \
    && ok "re-dispatched shrink: the variant's hint" \
    || bad "re-dispatched shrink: the variant's hint"
# ... and a variant's binary on a production file runs qloop.
file= expect 0 "qloop-notify-bug2 replay of a production file re-dispatches" \
    "$bug2" replay -q "$tmp/good.replay"
grep -q "made by the production core; running .*/qloop$" "$tmp/err" \
    && ok "re-dispatch to qloop: said on stderr" || bad "re-dispatch to qloop: said on stderr"
# Without the other binary beside it: refused, one line naming the command.
mkdir "$tmp/solo" "$tmp/solo-bug2"
cp "$bin" "$tmp/solo/qloop"
cp "$bug2" "$tmp/solo-bug2/qloop-notify-bug2"
file=$tmp/bug2.replay expect 2 "variant binary absent: refused" \
    "$tmp/solo/qloop" replay -q "$tmp/bug2.replay"
grep -qx "$tmp/bug2.replay:3: made by variant notify-bug2; run qloop-notify-bug2 replay $tmp/bug2.replay" \
    "$tmp/err" && ok "refusal names the command" \
    || { bad "refusal names the command"; sed 's/^/     /' "$tmp/err"; }
file=$tmp/bug2.replay expect 2 "variant binary absent: shrink refused" \
    "$tmp/solo/qloop" shrink "$tmp/bug2.replay" -o "$tmp/x.replay"
file=$tmp/good.replay expect 2 "qloop absent: a variant refuses a production file" \
    "$tmp/solo-bug2/qloop-notify-bug2" replay -q "$tmp/good.replay"
grep -q "run qloop replay $tmp/good.replay$" "$tmp/err" \
    && ok "refusal names qloop" || bad "refusal names qloop"
# A variant name that is no safe file name component: a parse error.
for line in 'variant' 'variant ' 'variant ../x' 'variant a/b' 'variant -x' \
            'variant .hidden' 'variant a b' \
            'variant aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'; do
    file=$tmp/badvariant.replay
    sed 2q "$tmp/good.replay" > "$file"
    printf '%s\n' "$line" >> "$file"
    sed 1,2d "$tmp/good.replay" >> "$file"
    expect 2 "bad variant line '$line'" "$bin" replay -q "$file"
    grep -q "^$file:3: " "$tmp/err" && ok "'$line': an error on line 3" \
        || bad "'$line': an error on line 3"
done

# ---- traces --------------------------------------------------------------------------
for ext in jsonl json svg txt; do
    file= expect 0 "trace .$ext" "$bin" replay -q "$tmp/good.replay" --trace "$tmp/t.$ext"
    [ -s "$tmp/t.$ext" ] && ok "trace .$ext written" || bad "trace .$ext written"
done
head -c 1 "$tmp/t.json" | grep -q '{' && ok "chrome trace is JSON" || bad "chrome trace is JSON"
grep -q '<svg' "$tmp/t.svg" && ok "svg" || bad "svg"

# ---- determinism option ----------------------------------------------------------------
file= expect 0 "--check-determinism" "$bin" run "$src/docs/examples/cross-thread-oneshots.scn" \
    --runs 50 --check-determinism

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
