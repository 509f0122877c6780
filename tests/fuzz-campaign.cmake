# Campaign hygiene of `qloop fuzz` and `qloop corpus minimize` (label
# "fuzz-regress"): engine command lines through --dry-run, and a real
# minimization (fuzz/build.sh libfuzzer into <build>/fuzz; skipped, exit
# 77, without clang's libFuzzer runtime).  tests/fuzz-campaign.sh.
add_test(NAME fuzz-campaign
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz-campaign.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR})
set_tests_properties(fuzz-campaign PROPERTIES LABELS "fuzz-regress"
                     TIMEOUT 900 SKIP_RETURN_CODE 77)
