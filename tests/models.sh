#!/bin/sh
# tests/models.sh — `qloop model` and `qloop replay FILE.trail` end to end.
# Usage: models.sh BIN_DIR SOURCE_DIR MODE
#   check   every model and variant gives its expected verdict (the table
#           in harness/model-check.c); a model whose BUG no longer fires is
#           reported (the check can fail); usage errors exit 2.
#   trail   spin trails of the notify, BH and handler BUG variants replay on
#           the matching C variants with the same verdict; a malformed
#           trail is one 'file:line:' error, exit 2.
# Exit 77 (skipped) without spin.
set -u
bin=$1/qloop
src=$2
mode=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-models.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# expect STATUS NAME COMMAND...; for 2 with $file set, exactly one
# '$file:LINE: ' line on stderr.
expect() {
    want=$1; name=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" != "$want" ]; then
        bad "$name: exit $got, expected $want"
        sed 's/^/     /' "$tmp/out" "$tmp/err" | tail -15
        return 1
    fi
    if [ "$want" = 2 ] && [ -n "${file:-}" ]; then
        if [ "$(wc -l < "$tmp/err")" != 1 ] ||
           ! grep -q "^$file:[0-9]*: " "$tmp/err"; then
            bad "$name: stderr is not one '$file:LINE: ...' line:"
            sed 's/^/     /' "$tmp/err" | head -5
            return 1
        fi
    fi
    ok "$name"
}

# Without spin: one line, exit 77, never a pass.
QLOOP_SPIN=/nonexistent/spin "$bin" model check notify >"$tmp/out" 2>&1
if [ $? = 77 ] && [ "$(wc -l < "$tmp/out")" = 1 ] && grep -q SKIPPED "$tmp/out"; then
    ok "no spin: one line, exit 77"
else
    bad "no spin: not a one-line skip"; cat "$tmp/out"
fi
if ! command -v "${QLOOP_SPIN:-spin}" >/dev/null 2>&1; then
    echo "SKIPPED: spin is not installed (Debian package 'spin')"
    exit 77
fi

file= expect 0 "model --help" "$bin" model --help
file= expect 2 "model without a verb" "$bin" model
file= expect 2 "model bad verb" "$bin" model verify
file= expect 2 "model check unknown model" "$bin" model check nosuch
file= expect 2 "model check unknown case" "$bin" model check notify/BUG_NOSUCH
file= expect 0 "model list" "$bin" model list

case $mode in
check)
    # Every case of the table, with its figures.
    if expect 0 "model check: every verdict as expected" "$bin" model check; then
        cat "$tmp/out"
    fi
    # The check fails when a BUG variant stops firing: the same model with
    # the BUG's code switched off must be reported, exit 1.
    mkdir "$tmp/models"
    cp "$src/models/notify.pml" "$tmp/models/"
    sed -i 's/BUG_SKIP_NOTIFIED/BUG_SKIP_NOTIFIED_OFF/' "$tmp/models/notify.pml"
    QLOOP_MODELS=$tmp/models file= expect 1 "a BUG that no longer fires is reported" \
        "$bin" model check notify/BUG_SKIP_NOTIFIED &&
        grep -q UNEXPECTED "$tmp/out" && ok "... as UNEXPECTED"
    # A model spin cannot read: exit 2, the error on stderr.
    mkdir "$tmp/broken"
    echo "bogus" > "$tmp/broken/bh.pml"
    QLOOP_MODELS=$tmp/broken file= expect 2 "a model spin rejects is exit 2" \
        "$bin" model check bh/correct &&
        grep -q "spin failed" "$tmp/err" && ok "... with spin's error"
    ;;
trail)
    keep=$tmp/keep
    file= expect 0 "model check --keep (the BUG trails)" "$bin" model check \
        --keep "$keep" notify/BUG_SKIP_NOTIFIED notify/BUG_BARE_NOTIFY \
        bh/BUG_FIFO bh/BUG_DELETED_RUNS handlers/BUG_NO_DELETED_CHECK
    for c in notify.BUG_SKIP_NOTIFIED notify.BUG_BARE_NOTIFY bh.BUG_FIFO \
             bh.BUG_DELETED_RUNS handlers.BUG_NO_DELETED_CHECK; do
        t=$keep/$c/$c.pml.trail
        if expect 1 "replay $c.pml.trail on its C variant" "$bin" replay "$t" &&
           grep -q '^agree:' "$tmp/out"; then
            grep -E '^(model |agree:)' "$tmp/out"
        else
            bad "$c: the C core does not agree"; tail -5 "$tmp/out"
        fi
    done
    # Bad trails: one line, exit 2.
    good=$keep/bh.BUG_FIFO/bh.BUG_FIFO.pml.trail
    mkdir "$tmp/bad"
    { head -3 "$good"; echo "12:x:4"; } > "$tmp/bad/bh.BUG_FIFO.pml.trail"
    file=$tmp/bad/bh.BUG_FIFO.pml.trail expect 2 "malformed trail step" \
        "$bin" replay "$tmp/bad/bh.BUG_FIFO.pml.trail"
    : > "$tmp/bad/notify.BUG_SKIP_NOTIFIED.pml.trail"
    file=$tmp/bad/notify.BUG_SKIP_NOTIFIED.pml.trail expect 2 "empty trail" \
        "$bin" replay "$tmp/bad/notify.BUG_SKIP_NOTIFIED.pml.trail"
    cp "$good" "$tmp/bad/anything.trail"
    file=$tmp/bad/anything.trail expect 2 "trail of no known case" \
        "$bin" replay "$tmp/bad/anything.trail"
    cp "$good" "$tmp/bad/thread-pool.BUG_NO_RESTART.pml.trail"
    file=$tmp/bad/thread-pool.BUG_NO_RESTART.pml.trail expect 2 \
        "trail of a case with no C variant" \
        "$bin" replay "$tmp/bad/thread-pool.BUG_NO_RESTART.pml.trail"
    ;;
*)
    echo "usage: models.sh BIN_DIR SOURCE_DIR check|trail" >&2
    exit 2
    ;;
esac

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
