# The .scn text format: parser, printer and scn_validate() (harness/scn*.c).
# Needs no loop core: the unit test links only the harness sources.
add_executable(test-scn test-scn.c
               ${PROJECT_SOURCE_DIR}/harness/scn.c
               ${PROJECT_SOURCE_DIR}/harness/scn-parse.c
               ${PROJECT_SOURCE_DIR}/harness/scn-print.c)
target_include_directories(test-scn PRIVATE ${PROJECT_SOURCE_DIR}/harness
                           ${PROJECT_SOURCE_DIR}/sim ${PROJECT_SOURCE_DIR}/include)
target_link_libraries(test-scn PRIVATE PkgConfig::GLIB)
# The test reads docs/examples/*.scn and docs/scenario-format.md at run time.
target_compile_definitions(test-scn PRIVATE QLOOP_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_test(NAME test-scn COMMAND test-scn)
set_tests_properties(test-scn PROPERTIES LABELS "unit;harness" TIMEOUT 120)
