#!/usr/bin/env python3
"""scripts/coverage-branches.py — what the branches `qloop coverage` left
uncovered in loop/*.c are: assertion checks, panics, or code.

`qloop coverage` reports llvm-cov's branch count, which counts both sides
of every condition: the failing side of each QLOOP_ASSERT()/g_assert() and
the condition in front of each qos_panic() are branches a correct core
never takes.  This script sorts the uncovered sides into those kinds and
lists the rest (the ones a scenario or an input could reach), so that
docs/fuzzing.md can say why each stays uncovered.

Method: `llvm-cov export` of the coverage flavour's profile (the one the
last `qloop coverage` wrote), then per branch region of loop/*.c (the host
backend, loop/host/, apart, as in the report): a side never taken is an
assertion if the region lies in a QLOOP_ASSERT/g_assert expansion or on an
assertion's line, a panic if a qos_panic()/abort() follows within three
lines, else code.

    scripts/coverage-branches.py [--build DIR] [--list]

DIR is the source tree's build/fuzz (default: build/fuzz beside this
script's tree).  Exit status 0, or 2 when the profile is missing.
"""
import argparse
import collections
import json
import os
import subprocess
import sys


def classify(src, line, in_macro, macro_text):
    if in_macro and ("ASSERT" in macro_text or "g_assert" in macro_text):
        return "assert"
    here = src[line - 1]
    before = " ".join(src[max(0, line - 3):line])
    after = " ".join(src[line - 1:line + 3])
    if "QLOOP_ASSERT" in here or "QLOOP_ASSERT" in before or "g_assert" in before:
        return "assert"
    if "qos_panic" in after or "abort()" in after:
        return "panic"
    return "code"


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(root, "build", "fuzz"))
    ap.add_argument("--list", action="store_true",
                    help="list every uncovered side of kind 'code'")
    args = ap.parse_args()
    binary = os.path.join(args.build, "coverage", "loop-fuzz")
    profile = os.path.join(args.build, "coverage-report", "loop.profdata")
    for f in (binary, profile):
        if not os.path.exists(f):
            print(f"coverage-branches: {f} is missing: run `qloop coverage "
                  f"corpus/loop` first", file=sys.stderr)
            return 2
    out = subprocess.run(["llvm-cov-14", "export", binary,
                          "-instr-profile=" + profile],
                         check=True, capture_output=True, text=True).stdout
    data = json.loads(out)["data"][0]
    total = 0
    missed = collections.Counter()
    listing = []
    for f in data["files"]:
        name = f["filename"]
        if "/loop/" not in name or "/loop/host/" in name:
            continue
        with open(name) as fh:
            src = fh.read().split("\n")
        regions = [(b, b[0], False, "") for b in f["branches"]]
        for e in f.get("expansions", []):
            at = e["source_region"][0]      # the macro's use in this file
            regions += [(b, at, True, src[at - 1]) for b in e["branches"]]
        for b, line, in_macro, text in regions:
            col, true_n, false_n = b[1], b[4], b[5]
            total += 2
            sides = (true_n == 0) + (false_n == 0)
            if not sides:
                continue
            kind = classify(src, line, in_macro, text)
            missed[kind] += sides
            if kind == "code":
                listing.append(f"{os.path.basename(name)}:{line}:{col} "
                               f"true {true_n} false {false_n}: "
                               f"{src[line - 1].strip()[:70]}")
    covered = total - sum(missed.values())
    checks = missed["assert"] + missed["panic"]
    print(f"branches of loop/*.c: {covered} of {total} covered "
          f"({100.0 * covered / total:.2f} %)")
    print(f"  never taken by a correct core: {missed['assert']} assertion "
          f"failures, {missed['panic']} panics")
    print(f"  code: {missed['code']} sides uncovered; without the "
          f"{checks} above, {100.0 * covered / (total - checks):.2f} % covered")
    if args.list:
        print("\n".join(sorted(listing)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
