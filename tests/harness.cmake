# The harness end to end (label "harness"), and the regression corpus
# (label "fuzz-regress").
add_test(NAME docs-examples
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/run-examples.sh
                 $<TARGET_FILE:qloop-cli> ${PROJECT_SOURCE_DIR}/docs/examples 300)
# The build's sanitizers: entries whose verdict is a sanitizer's report
# are checked where that sanitizer is built in, and skipped elsewhere.
add_test(NAME regressions
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/regress.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR}/corpus/regressions
                 "${QLOOP_SANITIZE}")
set_tests_properties(docs-examples PROPERTIES LABELS "harness" TIMEOUT 600)
set_tests_properties(regressions PROPERTIES LABELS "fuzz-regress" TIMEOUT 600)

add_executable(test-model test-model.c)
target_link_libraries(test-model PRIVATE qloop-harness)
target_include_directories(test-model PRIVATE ${PROJECT_SOURCE_DIR}/loop)
add_test(NAME test-model COMMAND test-model)
set_tests_properties(test-model PROPERTIES LABELS "unit;harness" TIMEOUT 60)
add_executable(test-idmap test-idmap.c)
target_link_libraries(test-idmap PRIVATE qloop-harness)
add_test(NAME test-idmap COMMAND test-idmap)
set_tests_properties(test-idmap PROPERTIES LABELS "unit;harness" TIMEOUT 60)
add_executable(test-model-co test-model-co.c)
target_link_libraries(test-model-co PRIVATE qloop-harness)
add_test(NAME test-model-co COMMAND test-model-co)
set_tests_properties(test-model-co PROPERTIES LABELS "unit;harness" TIMEOUT 60)
# spawn.c is the command's, not the harness library's: built in here.
add_executable(test-spawn test-spawn.c ${PROJECT_SOURCE_DIR}/harness/spawn.c)
target_link_libraries(test-spawn PRIVATE PkgConfig::GLIB)
add_test(NAME test-spawn COMMAND test-spawn)
set_tests_properties(test-spawn PROPERTIES LABELS "unit;harness" TIMEOUT 120)

add_test(NAME qloop-cli
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(qloop-cli PROPERTIES LABELS "harness" TIMEOUT 600)

# Memory errors and crashes as verdicts, and the whole crash path of a
# campaign (tests/crash.sh; harness/crash.c, triage.c).  They need the
# sanitizer runtime that reports them: the default build's memcheck, or
# an ASan build.
if((QLOOP_SIM_MEMCHECK AND NOT QLOOP_SANITIZE) OR QLOOP_SANITIZE MATCHES "address")
  add_test(NAME crash-memory-verdict
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/crash.sh memory
                   $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(crash-memory-verdict PROPERTIES LABELS "harness"
                       TIMEOUT 300)
  if(NOT QLOOP_COVERAGE)
    add_test(NAME crash-fuzz-finding
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/crash.sh fuzz
                     $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
    set_tests_properties(crash-fuzz-finding PROPERTIES LABELS "fuzz-regress"
                         TIMEOUT 900 SKIP_RETURN_CODE 77)
  endif()
endif()

# Without ASan the simulator's checking allocator makes the same memory
# errors verdicts (sim/heap.c): tests/heap-check.sh builds the qloop
# command without sanitizers for the core and four planted defects.
if(NOT QLOOP_COVERAGE)
  add_test(NAME heap-memory-verdict
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/heap-check.sh
                   ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/heap-check)
  set_tests_properties(heap-memory-verdict PROPERTIES LABELS "harness"
                       TIMEOUT 900)
endif()

add_executable(test-crash test-crash.c)
target_link_libraries(test-crash PRIVATE qloop-harness)
add_test(NAME test-crash COMMAND test-crash)
set_tests_properties(test-crash PROPERTIES LABELS "unit;harness" TIMEOUT 60)

# Every example and regression scenario fails on a core that breaks its rule.
add_test(NAME scenario-breaks
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/scenario-breaks.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR}
                 "${QLOOP_SANITIZE}")
set_tests_properties(scenario-breaks PROPERTIES LABELS "harness" TIMEOUT 600)

# Every variant is a patch that applies to loop/ as it is; a stale one
# fails in one line naming its variant.
add_test(NAME variant-patches
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/variant-patches.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(variant-patches PROPERTIES LABELS "unit;harness" TIMEOUT 60)

# `qloop mutants`: exit status, table, tsv, --shard, usage errors.
add_test(NAME mutants
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mutants.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(mutants PROPERTIES LABELS "harness" TIMEOUT 300)
# The short bug-zoo table: listed variants stay detected (tests/mutants-short.txt).
add_test(NAME mutants-short
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mutants-short.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(mutants-short PROPERTIES LABELS "harness" TIMEOUT 900)
# --shard for run, explore and mutants, and qloop merge (docs/zoo.md).
add_test(NAME shard
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/shard.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(shard PROPERTIES LABELS "harness" TIMEOUT 300)
# qloop diff: where a variant and the core part ways.
add_test(NAME diff
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/diff.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(diff PROPERTIES LABELS "harness" TIMEOUT 120)
