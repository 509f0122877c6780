#!/usr/bin/env bash
# fuzz/check-libfuzzer.sh — can clang link a libFuzzer target here?
# Exit 0 yes; 1 no, with a loud message and the install hint (ctest turns
# that into a skip: SKIP_RETURN_CODE 77 in the callers).
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' \
  > "$probe/p.c"
if command -v clang >/dev/null 2>&1 &&
   clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" \
     >/dev/null 2>&1; then
  exit 0
fi
cat >&2 <<'MSG'
************************************************************************
* SKIPPED: clang's libFuzzer runtime is not available (clang missing, or *
* -fsanitize=fuzzer does not link).  Install it with:                  *
*     sudo apt-get install -y clang libclang-rt-14-dev                 *
************************************************************************
MSG
exit 1
