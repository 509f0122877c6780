# Tests of the simulated OS and of the core running on it (label "sim").
function(qloop_sim_test name)
  cmake_parse_arguments(T "" "LIB" "SOURCES;LABELS;ARGS" ${ARGN})
  if(NOT T_LIB)
    set(T_LIB qloop-sim)
  endif()
  if(NOT TARGET ${name})
    add_executable(${name} ${T_SOURCES})
    target_link_libraries(${name} PRIVATE ${T_LIB})
    target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
endfunction()

qloop_sim_test(test-sim SOURCES sim/test-sim.c)
add_test(NAME sim-selftest COMMAND test-sim)

qloop_sim_test(sim-workload SOURCES sim/workload.c)
add_test(NAME sim-determinism-twice COMMAND sim-workload --seeds 1000 --twice)

# Item: the lost wake-up (BUG2) is found by random, PCT and DFS, and the
# production protocol survives the same bounded space.
qloop_sim_test(lost-wakeup SOURCES sim/lost-wakeup.c)
qloop_sim_test(lost-wakeup-bug2 SOURCES sim/lost-wakeup.c
               LIB qloop-sim-notify-bug2)
add_test(NAME sim-bug2-found COMMAND lost-wakeup-bug2 --expect hang
         --runs 5000 --bound 2)
add_test(NAME sim-bug2-absent COMMAND lost-wakeup --expect ok
         --runs 2000 --bound 3)

set_tests_properties(sim-selftest sim-determinism-twice sim-bug2-found
                     sim-bug2-absent PROPERTIES LABELS "sim" TIMEOUT 300)

if(NOT QLOOP_SANITIZE AND NOT QLOOP_COVERAGE)
  add_test(NAME sim-determinism-builds
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/sim/determinism-builds.sh
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/determinism 1000)
  set_tests_properties(sim-determinism-builds PROPERTIES
                       LABELS "sim;determinism" TIMEOUT 600)
endif()

# Item: the seam's error paths, each fault with its stated outcome.
qloop_sim_test(test-faults SOURCES sim/test-faults.c)
add_test(NAME sim-faults COMMAND test-faults)
set_tests_properties(sim-faults PROPERTIES LABELS "sim" TIMEOUT 300)
# The same workload with every fault point in swarm mode (the seam's
# error paths too): no verdict, and each seed's hash twice the same.
add_test(NAME sim-faults-workload COMMAND sim-workload --seeds 2000 --twice --seam)
add_test(NAME sim-faults-workload-pct
         COMMAND sim-workload --seeds 1000 --twice --seam --pct)
set_tests_properties(sim-faults-workload sim-faults-workload-pct PROPERTIES
                     LABELS "sim" TIMEOUT 300)
