# Campaign hygiene of `qloop fuzz` and `qloop corpus minimize` (label
# "fuzz-regress"): engine command lines through --dry-run, and a real
# minimization (fuzz/build.sh libfuzzer into <build>/fuzz; skipped, exit
# 77, without clang's libFuzzer runtime).  tests/fuzz-campaign.sh.
add_test(NAME fuzz-campaign
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz-campaign.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR})
# It builds into the same <build>/fuzz as fuzz-libfuzzer-build: after it,
# never beside it (two makes remaking one archive link a half-written one).
set_tests_properties(fuzz-campaign PROPERTIES LABELS "fuzz-regress"
                     TIMEOUT 900 SKIP_RETURN_CODE 77
                     FIXTURES_REQUIRED fuzz-libfuzzer
                     RESOURCE_LOCK fuzz-build-dir)

# The progress figures and the AFL++ plan, from fabricated engine files
# (label "harness"): tests/test-fuzz-progress.c.
add_executable(test-fuzz-progress test-fuzz-progress.c
               ${PROJECT_SOURCE_DIR}/harness/cmd-fuzz-progress.c
               ${PROJECT_SOURCE_DIR}/harness/cmd-fuzz-engine.c)
target_link_libraries(test-fuzz-progress PRIVATE qloop-harness)
target_include_directories(test-fuzz-progress PRIVATE
                           ${PROJECT_SOURCE_DIR}/fuzz)
add_test(NAME test-fuzz-progress COMMAND test-fuzz-progress)
set_tests_properties(test-fuzz-progress PROPERTIES LABELS "harness"
                     TIMEOUT 60)
