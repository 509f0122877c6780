#!/bin/sh
# tests/regress.sh — replay the regression corpus; every entry must still
# end with the verdict it records.
#
# corpus/regressions/NAME.replay          replayed by qloop
# corpus/regressions/NAME.VARIANT.replay  replayed by qloop-VARIANT (a core
#                                         variant, e.g. notify-bug2: its
#                                         recorded failure must reproduce)
# corpus/regressions/NAME.scn             200 random schedules must pass
# Usage: regress.sh BIN_DIR CORPUS_DIR
set -u
bin_dir=$1
corpus=$2
pass=0
fail=0
for f in "$corpus"/*.replay "$corpus"/*.scn; do
    [ -e "$f" ] || continue
    base=$(basename "$f")
    case $base in
        *.scn)
            cmd="$bin_dir/qloop run --runs 200 $f" ;;
        *.*.replay)
            variant=${base%.replay}
            variant=${variant##*.}
            cmd="$bin_dir/qloop-$variant replay -q --ignore-hash --expect-recorded $f" ;;
        *)
            cmd="$bin_dir/qloop replay -q --ignore-hash --expect-recorded $f" ;;
    esac
    if out=$($cmd 2>&1); then
        pass=$((pass + 1))
        echo "ok   $base"
    else
        fail=$((fail + 1))
        echo "FAIL $base: $cmd"
        echo "$out" | tail -5 | sed 's/^/     /'
    fi
done
echo "regressions: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
