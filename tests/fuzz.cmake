# The fuzz targets in ctest (label "fuzz"; docs/fuzzing.md).
#  - fuzz-replay-<target>: every file of corpus/<target>/ through the
#    target's plain replay driver (fuzz/driver.c), with any compiler;
#  - fuzz-libfuzzer-<target>: a 20 s libFuzzer run per target (clang,
#    built by fuzz/build.sh into <build>/fuzz), 60 s in all.
# Without clang's libFuzzer runtime the last kind is skipped (exit 77) with
# a loud message.  OSS-Fuzz's build of the targets: tests/oss-fuzz.cmake.
foreach(t loop scn-parse replay-parse)
  add_executable(fuzz-replay-${t} ${PROJECT_SOURCE_DIR}/fuzz/${t}-fuzz.c
                 ${PROJECT_SOURCE_DIR}/fuzz/driver.c)
  target_link_libraries(fuzz-replay-${t} PRIVATE qloop-harness)
  add_test(NAME fuzz-replay-${t}
           COMMAND fuzz-replay-${t} ${PROJECT_SOURCE_DIR}/corpus/${t})
  set_tests_properties(fuzz-replay-${t} PROPERTIES LABELS "fuzz" TIMEOUT 120)
endforeach()

if(NOT QLOOP_SANITIZE AND NOT QLOOP_COVERAGE)
  set(fuzz_sh ${PROJECT_SOURCE_DIR}/fuzz/ctest-libfuzzer.sh)
  add_test(NAME fuzz-libfuzzer-build
           COMMAND ${fuzz_sh} build ${CMAKE_BINARY_DIR}/fuzz)
  set_tests_properties(fuzz-libfuzzer-build PROPERTIES LABELS "fuzz"
                       TIMEOUT 900 SKIP_RETURN_CODE 77
                       FIXTURES_SETUP fuzz-libfuzzer)
  foreach(t loop scn-parse replay-parse devices)
    add_test(NAME fuzz-libfuzzer-${t}
             COMMAND ${fuzz_sh} run ${CMAKE_BINARY_DIR}/fuzz ${t} 20)
    set_tests_properties(fuzz-libfuzzer-${t} PROPERTIES LABELS "fuzz"
                         TIMEOUT 300 SKIP_RETURN_CODE 77
                         FIXTURES_REQUIRED fuzz-libfuzzer)
  endforeach()
endif()
