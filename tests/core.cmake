# Loop-core tests on the host backend: one binary per feature file.
qloop_test(test-bh SOURCES test-bh.c LABELS "unit")
qloop_test(test-fd SOURCES test-fd.c LABELS "unit")
qloop_test(test-timer SOURCES test-timer.c LABELS "unit")
qloop_test(test-notify SOURCES test-notify.c LABELS "unit;threads")
qloop_test(test-gsource SOURCES test-gsource.c LABELS "unit")
qloop_test(test-main-loop SOURCES test-main-loop.c LABELS "unit")
qloop_test(test-main-loop-thread SOURCES test-main-loop-thread.c LABELS "threads")
qloop_test(test-signals SOURCES test-signals.c LABELS "signals")
qloop_test(test-thread-pool SOURCES test-thread-pool.c LABELS "unit;threads")
qloop_test(test-multithread SOURCES test-multithread.c LABELS "threads")

# The same core tests on the simulated backend (no real OS behaviour needed):
# virtual time instead of waiting, coroutine threads, the simulated tape.
foreach(t bh fd timer gsource main-loop)
  add_executable(test-${t}-sim test-${t}.c)
  target_link_libraries(test-${t}-sim PRIVATE qloop-sim)
  target_include_directories(test-${t}-sim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(test-${t}-sim PRIVATE QLOOP_TEST_SIM)
  add_test(NAME test-${t}-sim COMMAND test-${t}-sim)
  set_tests_properties(test-${t}-sim PROPERTIES LABELS "unit;sim" TIMEOUT 120)
endforeach()
qloop_test(test-host SOURCES test-host.c LABELS "unit")
# The host poller's epoll refusals and fallback: reaches the seam itself.
qloop_test(test-host-poller SOURCES test-host-poller.c LABELS "unit")
target_include_directories(test-host-poller PRIVATE
                           ${PROJECT_SOURCE_DIR}/loop ${PROJECT_SOURCE_DIR}/loop/host)

# Coroutines: on the default switch, on the portable (ucontext) one, and —
# single-threaded cases — on the simulator.
qloop_test(test-coroutine SOURCES test-coroutine.c LABELS "unit;threads")
add_executable(test-coroutine-portable test-coroutine.c)
target_link_libraries(test-coroutine-portable PRIVATE qloop-coro-portable)
target_include_directories(test-coroutine-portable PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME test-coroutine-portable COMMAND test-coroutine-portable)
set_tests_properties(test-coroutine-portable PROPERTIES LABELS "unit;threads" TIMEOUT 120)
add_executable(test-coroutine-sim test-coroutine.c)
target_link_libraries(test-coroutine-sim PRIVATE qloop-sim)
target_include_directories(test-coroutine-sim PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(test-coroutine-sim PRIVATE QLOOP_TEST_SIM)
add_test(NAME test-coroutine-sim COMMAND test-coroutine-sim)
set_tests_properties(test-coroutine-sim PROPERTIES LABELS "unit;sim" TIMEOUT 120)
qloop_test(test-api-parity SOURCES test-api-parity.c LABELS "unit")
