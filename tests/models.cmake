# The Promela models (label "model"): every model and BUG variant checked
# with spin against its expected verdict, and spin trails replayed on the
# C variants (tests/models.sh).  Without spin both are skipped (77).
foreach(mode check trail)
  add_test(NAME model-${mode}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/models.sh
                   $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR} ${mode})
  set_tests_properties(model-${mode} PROPERTIES LABELS "model" TIMEOUT 600
                       SKIP_RETURN_CODE 77)
endforeach()

# C -> model: the bounded explorer and spin reach the same outcomes for
# small scenarios (tests/models/*.scn and their .pml).
add_executable(test-model-outcomes test-model-outcomes.c)
target_link_libraries(test-model-outcomes PRIVATE qloop-harness)
target_include_directories(test-model-outcomes PRIVATE ${PROJECT_SOURCE_DIR}/loop)
# Bound 3 reaches all six; bound 1 reaches three, and the check must say
# so (it can fail: WILL_FAIL).
add_test(NAME model-outcomes-bh
         COMMAND test-model-outcomes ${CMAKE_CURRENT_SOURCE_DIR}/models/outcomes-bh.scn
                 ${CMAKE_CURRENT_SOURCE_DIR}/models/outcomes-bh.pml 3)
add_test(NAME model-outcomes-bh-bound1-disagrees
         COMMAND test-model-outcomes ${CMAKE_CURRENT_SOURCE_DIR}/models/outcomes-bh.scn
                 ${CMAKE_CURRENT_SOURCE_DIR}/models/outcomes-bh.pml 1)
set_tests_properties(model-outcomes-bh PROPERTIES LABELS "model" TIMEOUT 300
                     SKIP_RETURN_CODE 77)
set_tests_properties(model-outcomes-bh-bound1-disagrees PROPERTIES
                     LABELS "model" TIMEOUT 300 SKIP_RETURN_CODE 77
                     PASS_REGULAR_EXPRESSION "DISAGREE: the model reaches 'P A P'")

# The notify protocol: two blocking polls against a worker's two oneshots;
# bound 2 exhausts the C space (four outcomes, no hang on either side).
add_test(NAME model-outcomes-notify
         COMMAND test-model-outcomes ${CMAKE_CURRENT_SOURCE_DIR}/models/outcomes-notify.scn
                 ${CMAKE_CURRENT_SOURCE_DIR}/models/outcomes-notify.pml 2)
set_tests_properties(model-outcomes-notify PROPERTIES LABELS "model" TIMEOUT 300
                     SKIP_RETURN_CODE 77)
