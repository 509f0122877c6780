# The fuzz targets in ctest (label "fuzz"; docs/fuzzing.md).
#  - fuzz-replay-<target>: every file of corpus/<target>/ through the
#    target's plain replay driver (fuzz/driver.c), with any compiler;
#  - fuzz-libfuzzer-<target>: a 20 s libFuzzer run per target (clang,
#    built by fuzz/build.sh into <build>/fuzz); vmm: 300 inputs, ~10 s.
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

# In one process an input of the loop target runs as it replays alone,
# whatever ran before it (tests/fuzz-determinism.c): the corpus, and inputs
# that once left state behind with those it changed.
add_executable(fuzz-determinism ${CMAKE_CURRENT_SOURCE_DIR}/fuzz-determinism.c)
target_link_libraries(fuzz-determinism PRIVATE qloop-harness)
add_test(NAME fuzz-determinism-loop
         COMMAND fuzz-determinism ${PROJECT_SOURCE_DIR}/corpus/loop
                 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz-determinism)
set_tests_properties(fuzz-determinism-loop PROPERTIES LABELS "fuzz" TIMEOUT 300)

# The VMM glue target (harness/kvm/fuzz-vmm.c, x86-64 Linux only): its
# corpus through the same replay driver, linked with the VMM's libraries.
if(TARGET qloop-kvm-fuzz-vmm)
  add_executable(fuzz-replay-vmm ${PROJECT_SOURCE_DIR}/fuzz/driver.c)
  target_link_libraries(fuzz-replay-vmm PRIVATE qloop-kvm-fuzz-vmm)
  add_test(NAME fuzz-replay-vmm
           COMMAND fuzz-replay-vmm ${PROJECT_SOURCE_DIR}/corpus/vmm)
  set_tests_properties(fuzz-replay-vmm PROPERTIES LABELS "fuzz" TIMEOUT 120)
endif()

if(NOT QLOOP_SANITIZE AND NOT QLOOP_COVERAGE)
  # A variant's fuzz build reuses its flavour's objects (fuzz/build.sh).
  add_test(NAME fuzz-variant-build
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fuzz-variant-build.sh
                   ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/fuzz-variant)
  set_tests_properties(fuzz-variant-build PROPERTIES LABELS "fuzz"
                       TIMEOUT 900 SKIP_RETURN_CODE 77)
  # AFL++ counts edges of the core, the runner and the decoder, not of the
  # simulator and the oracles (fuzz/coverage-ignore.txt).
  add_test(NAME fuzz-afl-feedback
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/afl-feedback.sh
                   ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/fuzz-afl)
  set_tests_properties(fuzz-afl-feedback PROPERTIES LABELS "fuzz"
                       TIMEOUT 900 SKIP_RETURN_CODE 77)
  set(fuzz_sh ${PROJECT_SOURCE_DIR}/fuzz/ctest-libfuzzer.sh)
  add_test(NAME fuzz-libfuzzer-build
           COMMAND ${fuzz_sh} build ${CMAKE_BINARY_DIR}/fuzz)
  set_tests_properties(fuzz-libfuzzer-build PROPERTIES LABELS "fuzz"
                       TIMEOUT 900 SKIP_RETURN_CODE 77
                       FIXTURES_SETUP fuzz-libfuzzer
                       RESOURCE_LOCK fuzz-build-dir)
  foreach(t loop scn-parse replay-parse devices)
    add_test(NAME fuzz-libfuzzer-${t}
             COMMAND ${fuzz_sh} run ${CMAKE_BINARY_DIR}/fuzz ${t} 20)
    set_tests_properties(fuzz-libfuzzer-${t} PROPERTIES LABELS "fuzz"
                         TIMEOUT 300 SKIP_RETURN_CODE 77
                         FIXTURES_REQUIRED fuzz-libfuzzer)
  endforeach()
  # vmm-fuzz runs tens of inputs a second, not thousands (a pipe, a VM and
  # the main loop per run; a console flood is ~70 000 port writes): a fixed
  # 300 inputs, ~10 s idle, so CI stays repeatable (60 s guard for load).
  if(TARGET qloop-kvm-fuzz-vmm)
    add_test(NAME fuzz-libfuzzer-vmm
             COMMAND ${fuzz_sh} run ${CMAKE_BINARY_DIR}/fuzz vmm 20 300)
    set_tests_properties(fuzz-libfuzzer-vmm PROPERTIES LABELS "fuzz"
                         TIMEOUT 300 SKIP_RETURN_CODE 77
                         FIXTURES_REQUIRED fuzz-libfuzzer)
  endif()
endif()
