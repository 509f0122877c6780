# qemu-tests: QEMU 10.0's own unit tests for the loop (from Debian's source
# package, fetched at test time and cached in the build dir, never kept in
# the repository), built unchanged through pkg-config qloop and run case by
# case (tests/qemu/run-qemu-test.sh).  Without network they skip, loudly.
foreach(qemu_test test-aio test-aio-multithread test-thread-pool
                  test-nested-aio-poll)
  add_test(NAME qemu-${qemu_test}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/qemu/run-qemu-test.sh
                   ${PROJECT_BINARY_DIR} ${CMAKE_INSTALL_LIBDIR}
                   ${CMAKE_C_COMPILER} ${qemu_test} ${QLOOP_COMPAT_FLAGS})
  set_tests_properties(qemu-${qemu_test} PROPERTIES
                       LABELS "qemu-tests" TIMEOUT 300 SKIP_RETURN_CODE 77
                       RESOURCE_LOCK qemu-tests)
endforeach()
