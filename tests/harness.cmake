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

add_test(NAME qloop-cli
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(qloop-cli PROPERTIES LABELS "harness" TIMEOUT 600)

# Every example and regression scenario fails on a core that breaks its rule.
add_test(NAME scenario-breaks
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/scenario-breaks.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR}
                 "${QLOOP_SANITIZE}")
set_tests_properties(scenario-breaks PROPERTIES LABELS "harness" TIMEOUT 600)
