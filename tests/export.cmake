# Trace exporters (harness/export-*.c): JSON lines, Chrome JSON, SVG.  Built
# from source here, on the sim library only for sim_event_kind_name().
add_executable(test-export test-export.c
  ${PROJECT_SOURCE_DIR}/harness/export-common.c
  ${PROJECT_SOURCE_DIR}/harness/export-json.c
  ${PROJECT_SOURCE_DIR}/harness/export-svg.c)
target_include_directories(test-export PRIVATE
  ${PROJECT_SOURCE_DIR}/harness ${PROJECT_SOURCE_DIR}/sim
  ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/loop)
target_link_libraries(test-export PRIVATE qloop-sim)
add_test(NAME test-export COMMAND test-export)
set_tests_properties(test-export PROPERTIES LABELS "unit;harness" TIMEOUT 120)
