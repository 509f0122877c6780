#!/bin/sh
# tests/regress.sh — replay the regression corpus; every entry must still
# end with the verdict it records.
#
# corpus/regressions/NAME.replay          replayed by qloop
# corpus/regressions/NAME.VARIANT.replay  replayed by qloop-VARIANT (a core
#                                         variant, variants/VARIANT.patch: its
#                                         recorded failure must reproduce;
#                                         its line 3 is "variant VARIANT")
# corpus/regressions/NAME.scn             200 random schedules must pass on
#                                         the production core; a variant's
#                                         NAME.VARIANT.replay beside it shows
#                                         the same scenario failing there
# corpus/regressions/NAME.VARIANT.report  beside NAME.VARIANT.replay: that
#                                         replay's verdict is a sanitizer's
#                                         report, which no simulated-run
#                                         verdict sees (a use after free that
#                                         reads what the memory still held,
#                                         an overflow the compiler's code
#                                         happens to survive).  One line,
#                                         "SANITIZER TEXT": address or
#                                         undefined, then what the report
#                                         must contain.  Checked where the
#                                         build has that sanitizer (the asan
#                                         preset); skipped, saying so,
#                                         elsewhere.
# Usage: regress.sh BIN_DIR CORPUS_DIR [SANITIZERS]
#   SANITIZERS: the build's -fsanitize list (CMake's QLOOP_SANITIZE),
#   e.g. address,undefined; empty for none.
set -u
bin_dir=$1
corpus=$2
sanitizers=${3:-}
pass=0
fail=0
skip=0

# An entry whose verdict is a sanitizer report: run it, and find the report.
check_report() {    # FILE REPORT_FILE VARIANT
    read -r need text < "$2"
    case ",$sanitizers," in
        *",$need,"*) ;;
        *)
            skip=$((skip + 1))
            echo "SKIP $(basename "$1"): its verdict is a report of the" \
                 "'$need' sanitizer ($text), which this build" \
                 "(sanitizers: ${sanitizers:-none}) cannot give; the asan" \
                 "preset's ctest checks it"
            return ;;
    esac
    cmd="$bin_dir/qloop-$3 replay -q --ignore-hash $1"
    out=$($cmd 2>&1)
    status=$?
    case $out in
        *"$text"*)
            if [ "$status" -ne 0 ]; then
                pass=$((pass + 1))
                echo "ok   $(basename "$1"): $text"
                return
            fi ;;
    esac
    fail=$((fail + 1))
    echo "FAIL $(basename "$1"): exit $status, no '$text' in the report: $cmd"
    echo "$out" | tail -5 | sed 's/^/     /'
}

for f in "$corpus"/*.replay "$corpus"/*.scn; do
    [ -e "$f" ] || continue
    base=$(basename "$f")
    case $base in
        *.scn)
            cmd="$bin_dir/qloop run --runs 200 $f" ;;
        *.*.replay)
            variant=${base%.replay}
            variant=${variant##*.}
            if [ -e "${f%.replay}.report" ]; then
                check_report "$f" "${f%.replay}.report" "$variant"
                continue
            fi
            # A variant's entry exists to fail: an "ok" would prove nothing.
            if grep -qx 'verdict ok' "$f"; then
                fail=$((fail + 1))
                echo "FAIL $base: records verdict ok; a variant's replay" \
                     "must record its failure (or have a .report)"
                continue
            fi
            cmd="$bin_dir/qloop-$variant replay -q --ignore-hash --expect-recorded $f" ;;
        *)
            cmd="$bin_dir/qloop replay -q --ignore-hash --expect-recorded $f" ;;
    esac
    if out=$($cmd 2>&1); then
        pass=$((pass + 1))
        # Say which failure a variant still shows (its "as recorded" line).
        recorded=$(echo "$out" | sed -n 's/^as recorded: //p')
        echo "ok   $base${recorded:+: $recorded, as recorded}"
    else
        fail=$((fail + 1))
        echo "FAIL $base: $cmd"
        echo "$out" | tail -5 | sed 's/^/     /'
    fi
done
echo "regressions: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
