# compat: a program written against QEMU's headers only, built from an
# installed qloop through pkg-config (tests/compat/run-compat.sh).
set(QLOOP_COMPAT_FLAGS "")
if(QLOOP_SANITIZE)
  list(APPEND QLOOP_COMPAT_FLAGS -fsanitize=${QLOOP_SANITIZE} -fno-omit-frame-pointer)
endif()
if(QLOOP_COVERAGE)
  list(APPEND QLOOP_COMPAT_FLAGS --coverage)
endif()
add_test(NAME compat-qemu-api
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/compat/run-compat.sh
                 ${PROJECT_BINARY_DIR} ${CMAKE_INSTALL_LIBDIR}
                 ${CMAKE_CURRENT_SOURCE_DIR}/compat/qemu-api.c
                 ${CMAKE_C_COMPILER} ${QLOOP_COMPAT_FLAGS})
set_tests_properties(compat-qemu-api PROPERTIES LABELS "compat" TIMEOUT 120)
