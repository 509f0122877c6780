# OSS-Fuzz and ClusterFuzzLite, as they call fuzz/oss-fuzz/build.sh (label
# "fuzz-regress"): tests/oss-fuzz.sh copies the tree to a fresh $SRC/qloop and
# the script to $SRC/build.sh, builds with OSS-Fuzz's address, undefined,
# coverage and AFL++ settings, one build each, and runs every target on its
# seed corpus; it checks the project files and the ClusterFuzzLite workflows
# first.  Skipped (77, one line saying why) without clang's libFuzzer.  Not
# under the sanitizer or coverage presets: it brings its own flags.
if(NOT QLOOP_SANITIZE AND NOT QLOOP_COVERAGE)
  add_test(NAME oss-fuzz-build
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/oss-fuzz.sh
                   ${CMAKE_BINARY_DIR}/oss-fuzz-test)
  set_tests_properties(oss-fuzz-build PROPERTIES LABELS "fuzz-regress"
                       TIMEOUT 900 SKIP_RETURN_CODE 77)
endif()
