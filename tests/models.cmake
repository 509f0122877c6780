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
