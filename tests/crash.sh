#!/bin/sh
# tests/crash.sh — memory errors and crashes are verdicts (harness/crash.c)
# and every crash of a campaign becomes one finding (harness/triage.c).
#
#   crash.sh memory BIN_DIR SOURCE_DIR
#     qloop-bh-guard-uaf (variants/bh-guard-uaf.patch keeps aio_bh_call's use after free)
#     on a BH that deletes itself and polls: run exits 1 with a "memory"
#     verdict, its signature and a replay file; replay reproduces it (exit 1;
#     0 with --expect-recorded); shrink keeps it; explore finds it; bad
#     replay files still get one line and exit 2.  qloop-bh-uaf-write (a
#     store to that freed BH) and qloop-bh-double-free (oneshots freed
#     twice) end run with "memory" verdicts signed heap-use-after-free and
#     double-free.  qloop-bh-leak (a
#     oneshot BH never freed) ends run with a "memory" verdict signed
#     "leak: ...", whose replay reproduces it.
#   crash.sh fuzz BIN_DIR SOURCE_DIR
#     qloop-bh-crash fuzz (variants/bh-crash.patch: a planted abort()) for 20 s
#     on one core: exactly one finding, shrunk; qloop-bh-crash replays it
#     with the report (exit 1, not 134); the production qloop passes it.
#     Exit 77 (skipped) without clang's libFuzzer runtime.
set -u
mode=$1
bin_dir=$2
src=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-crash.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# expect STATUS NAME COMMAND...: the exit status (never a bare signal).
expect() {
    want=$1; name=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" = "$want" ]; then
        ok "$name"
    else
        bad "$name: exit $got, expected $want"
        sed 's/^/     /' "$tmp/out" | tail -5
        grep -m3 'ERROR\|error' "$tmp/err" | sed 's/^/     /'
    fi
}

has() {     # has NAME PATTERN: the last command's stdout matches (status 1 if not)
    if grep -q "$2" "$tmp/out"; then ok "$1"; else bad "$1: no '$2' in:"; \
        sed 's/^/     /' "$tmp/out" | tail -5; return 1; fi
}

memory() {
    uaf=$bin_dir/qloop-bh-guard-uaf
    scn=$tmp/self-delete.scn
    printf 'bh A { delete A; poll_nb }\nthread main { schedule A; poll }\n' > "$scn"
    sig='signature: memory: heap-use-after-free: aio_bh_call < aio_bh_poll < aio_poll'

    expect 1 "run: a use after free is a verdict" "$uaf" run "$scn" -o "$tmp/uaf.replay"
    has "run: memory verdict" "^seed 1 random: memory"
    has "run: signature by function names" "^$sig\$"
    has "run: the sanitizer's first line" "AddressSanitizer: heap-use-after-free"
    has "run: the reproducing command" "^replay: qloop-bh-guard-uaf replay $tmp/uaf.replay"
    grep -q '^verdict memory$' "$tmp/uaf.replay" && ok "replay file: verdict memory" \
        || bad "replay file: verdict memory"

    expect 1 "replay reproduces" "$uaf" replay "$tmp/uaf.replay"
    has "replay: same signature" "^$sig\$"
    has "replay: the story so far" "op: delete A"
    expect 0 "replay --expect-recorded" "$uaf" replay -q --expect-recorded "$tmp/uaf.replay"
    has "replay: as recorded" "^as recorded: memory"

    expect 1 "run --runs 50 stops at the first" "$uaf" run "$scn" --runs 50 -o "$tmp/uaf2.replay"
    expect 0 "shrink a crashing input" "$uaf" shrink "$tmp/uaf.replay" -o "$tmp/min.replay"
    has "shrink: same signature" "^$sig\$"
    expect 1 "shrunk replay reproduces" "$uaf" replay -q "$tmp/min.replay"
    expect 1 "explore reports it" "$uaf" explore "$scn" -k 1 -o "$tmp/ex.replay"
    has "explore: memory verdict" "schedule 1: memory"
    expect 1 "triage: one finding" "$uaf" triage -o "$tmp/findings" \
        "$tmp/uaf.replay" "$tmp/uaf2.replay" "$tmp/min.replay"
    has "triage: 1 unique, 2 duplicates" "1 unique (1 reproduced.*2 duplicates"
    n=$(ls "$tmp/findings"/*.replay 2>/dev/null | wc -l)
    [ "$n" = 1 ] && ok "triage: one replay file" || bad "triage: $n replay files"

    # Format 2 stays strict: one line, exit 2 (line 5: after the
    # variant line this variant's files carry).
    sed '/^signature /d' "$tmp/uaf.replay" > "$tmp/nosig.replay"
    expect 2 "replay: format 2 without its signature line" "$uaf" replay "$tmp/nosig.replay"
    lines=$(wc -l < "$tmp/err")
    [ "$lines" = 1 ] && grep -q "^$tmp/nosig.replay:5: expected 'signature'" "$tmp/err" \
        && ok "one-line error" || { bad "one-line error:"; cat "$tmp/err"; }
    expect 2 "triage without files" "$uaf" triage
    expect 0 "triage --help" "$uaf" triage --help

    # The defects planted for both memory checkers (tests/heap-check.sh
    # runs them without ASan): a store to a BH its callback freed, and
    # oneshot BHs freed twice.
    expect 1 "run: a write after free is a verdict" "$bin_dir/qloop-bh-uaf-write" \
        run "$scn" -o "$tmp/uafw.replay"
    has "run: write after free signed" \
        "^signature: memory: heap-use-after-free: aio_bh_call < aio_bh_poll < aio_poll\$"
    printf 'oneshot x\nthread main { oneshot x; poll }\n' > "$tmp/oneshot.scn"
    expect 1 "run: a double free is a verdict" "$bin_dir/qloop-bh-double-free" \
        run "$tmp/oneshot.scn" -o "$tmp/df.replay"
    has "run: double free signed" "^signature: memory: double-free: bh_free < aio_bh_poll"

    leak=$bin_dir/qloop-bh-leak
    printf 'oneshot x\nthread main { oneshot x; poll }\n' > "$tmp/leak.scn"
    expect 1 "run: a leak is a verdict" "$leak" run "$tmp/leak.scn" --runs 100 -o "$tmp/leak.replay"
    has "run: leak signature" "^signature: memory: leak: "
    expect 1 "leak replay reproduces" "$leak" replay -q "$tmp/leak.replay"
    has "leak replay: same signature" "^signature: memory: leak: "
    expect 0 "the production core does not leak" "$bin_dir/qloop" run "$tmp/leak.scn" --runs 100

    # A rare leak: only when thread t advances the clock after main armed
    # T (seeds 213 and 339 among 214..341).  run checks runs 1-8 one by
    # one, then runs 16, 32, 64 and 128: the leak found at 128 is narrowed
    # down in a fresh process to the seed that leaked.
    printf 'oneshot x\ntimer T virtual { oneshot x }\nthread main { yield; yield; yield; yield; mod T 1ms; poll_nb }\nthread t { advance 2ms }\n' \
        > "$tmp/rare.scn"
    expect 1 "run: a late leak is narrowed to its seed" "$leak" run "$tmp/rare.scn" \
        --seed 214 --runs 200 -o "$tmp/rare.replay"
    has "run: narrowing" "^a leak in seeds 278..341: narrowing it down"
    has "run: the leaking seed" "^seed 339 random: memory"
    expect 1 "its replay leaks" "$leak" replay -q "$tmp/rare.replay"
}

fuzz() {
    "$src/fuzz/check-libfuzzer.sh" || exit 77
    planted=$bin_dir/qloop-bh-crash
    cd "$tmp" || exit 2
    expect 1 "campaign: crash files" "$planted" fuzz --time 20 --jobs 1 -o "$tmp/out-dir"
    cp "$tmp/out" "$tmp/campaign.txt"
    sed 's/^/     /' "$tmp/campaign.txt" | tail -8
    # One planted abort(); the decoder reaches the nested aio_bh_poll()
    # by more than one caller (aio_poll, the GSource dispatch), and a
    # signature is the top three frames — so one finding per caller, each
    # shrunk and reproduced.
    has "triage: unique findings, every one reproduced" \
        "^findings: [0-9]* crash files, \([1-9][0-9]*\) unique (\1 reproduced by their shrunk replay)"
    has "triage: signed by function names" "^  crash: ABRT: aio_bh_poll < "
    set -- "$tmp/out-dir/findings"/*.replay
    [ -f "$1" ] && ok "$# replay file(s)" || { bad "no replay files"; return; }
    [ $# -le 3 ] && ok "at most one finding per caller" || bad "$# findings: $*"
    ops=$(sed -n 's/.*replay: .*(\([0-9]*\) ops, .*from \([0-9]*\) ops.*/\1 \2/p' "$tmp/campaign.txt")
    echo "     shrunk: ops after/before = $ops"
    for finding in "$@"; do
        expect 1 "the variant replays $(basename "$finding") with the report" \
            "$planted" replay "$finding"
        has "replay: crash verdict and signature" "^signature: crash: ABRT: aio_bh_poll < "
        # The finding names its core: qloop hands it to qloop-bh-crash.
        grep -qx 'variant bh-crash' "$finding" && ok "the finding names its variant" \
            || bad "the finding names its variant"
        expect 1 "qloop replays it on its variant" "$bin_dir/qloop" replay "$finding"
        has "qloop: the variant's verdict" "^signature: crash: ABRT: aio_bh_poll < "
        # Without the line it is a production file: the core passes it.
        sed '/^variant /d' "$finding" > "$tmp/production.replay"
        expect 0 "the production core passes it" "$bin_dir/qloop" replay \
            "$tmp/production.replay"
        has "production: not reproduced" "^not reproduced: the file records a crash" \
            || sed 's/^/     /' "$finding"
    done
}

case $mode in
    memory) memory ;;
    fuzz) fuzz ;;
    *) echo "usage: $0 memory|fuzz BIN_DIR SOURCE_DIR" >&2; exit 2 ;;
esac
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
