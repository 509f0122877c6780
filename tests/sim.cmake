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

# The checking allocator of the core's objects (sim/heap.c): each memory
# error is a "memory" verdict naming the object's kind.
qloop_sim_test(test-heap SOURCES sim/test-heap.c)
add_test(NAME sim-heap COMMAND test-heap)
set_tests_properties(sim-heap PROPERTIES LABELS "sim;unit" TIMEOUT 60)

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

# Item: weak memory (label "memory").  tests/sim/memory.c runs a cross-thread
# wake-up under a memory model, linked against the production core or a
# variant with one barrier removed or weakened (variants/CMakeLists.txt).
qloop_sim_test(memory-core SOURCES sim/memory.c)
foreach(v mb-aio-poll mb-notify mb-ctx-prepare mb-notify-accept wmb-notify
          rel-aio-poll rel-ctx-check acq-bh-timeout mb-for-wmb-notify
          qemu-notify-accept)
  qloop_sim_test(memory-${v} SOURCES sim/memory.c LIB qloop-sim-${v})
endforeach()
qloop_sim_test(test-litmus SOURCES sim/litmus.c)
add_test(NAME memory-litmus COMMAND test-litmus)
set_tests_properties(memory-litmus PROPERTIES LABELS "sim;memory" TIMEOUT 300)
# memory_test(NAME VARIANT SCENARIO MODE EXPECT): bound 3 (delays and
# preemptions together), iterative depth-first search exhausted for "ok";
# 500 random and 500 PCT seeds first either way.  docs/simulation.md, "Weak memory:
# the core's barriers", has the figures and the argument for every "ok" of
# a variant.
function(memory_test name variant scenario mode expect)
  add_test(NAME memory-${name}
           COMMAND memory-${variant} --scenario ${scenario} --memory ${mode}
                   --expect ${expect} --runs 500 --bound 3 --dfs-runs 300000)
  set_tests_properties(memory-${name} PROPERTIES LABELS "memory" TIMEOUT 600)
endfunction()
# The production core passes every mode over the same bound.
foreach(mode sc tso pso)
  foreach(scenario poll gsource timer)
    memory_test(core-${scenario}-${mode} core ${scenario} ${mode} ok)
  endforeach()
endforeach()
# Full barriers the weak models need (QEMU 5710a3e09f: both halves of the
# aio_poll/aio_notify Dekker pair), each also shown harmless under sc.
memory_test(mb-aio-poll-tso      mb-aio-poll      poll    tso fail)
memory_test(mb-aio-poll-sc       mb-aio-poll      poll    sc  ok)
memory_test(mb-notify-tso        mb-notify        poll    tso fail)
memory_test(mb-notify-sc         mb-notify        poll    sc  ok)
memory_test(mb-ctx-prepare-tso   mb-ctx-prepare   gsource tso fail)
memory_test(mb-ctx-prepare-sc    mb-ctx-prepare   gsource sc  ok)
# Barriers the models show redundant in this core within the bound (the
# argument is in docs/simulation.md); pso is the weakest mode here.
memory_test(mb-notify-gsource-pso mb-notify       gsource pso ok)
memory_test(mb-notify-accept-pso mb-notify-accept poll    pso ok)
memory_test(mb-notify-accept-gsource-pso mb-notify-accept gsource pso ok)
memory_test(wmb-notify-pso       wmb-notify       timer   pso ok)
memory_test(rel-aio-poll-pso     rel-aio-poll     poll    pso ok)
memory_test(rel-ctx-check-pso    rel-ctx-check    gsource pso ok)
# Needs the c11 mode (loads never reorder under tso/pso): recorded as not
# shown, not as redundant.
memory_test(acq-bh-timeout-pso   acq-bh-timeout   poll    pso ok)
# c11 (per-location store histories, sim/c11.c): preemption bound 3 and,
# apart, at most 2 weak choices (older stores read) a schedule — the
# acquire side's failures need two stale reads.  docs/simulation.md, "c11",
# has the figures and the argument for every "ok" of a variant.
function(memory_c11_test name variant scenario expect)
  add_test(NAME memory-${name}
           COMMAND memory-${variant} --scenario ${scenario} --memory c11
                   --expect ${expect} --runs 500 --bound 3 --delays 2
                   --dfs-runs 300000)
  set_tests_properties(memory-${name} PROPERTIES LABELS "memory" TIMEOUT 600)
endfunction()
memory_c11_test(core-poll-c11             core              poll    ok)
memory_c11_test(core-gsource-c11          core              gsource ok)
memory_c11_test(core-timer-c11            core              timer   ok)
# The R shape: with QEMU's plain store in aio_notify_accept() the smp_wmb()
# in aio_notify() does not order the timer list for a waiter whose accept
# overwrites notified unread (the core exchanges instead).  The other fix,
# smp_mb() in aio_notify(), passes every scenario too.
memory_c11_test(qemu-notify-accept-timer-c11 qemu-notify-accept timer fail)
memory_c11_test(qemu-notify-accept-poll-c11  qemu-notify-accept poll  ok)
memory_c11_test(mb-for-wmb-notify-poll-c11    mb-for-wmb-notify poll    ok)
memory_c11_test(mb-for-wmb-notify-gsource-c11 mb-for-wmb-notify gsource ok)
memory_c11_test(mb-for-wmb-notify-timer-c11   mb-for-wmb-notify timer   ok)
# The full barriers tso already needs fail under c11 too.
memory_c11_test(mb-aio-poll-c11           mb-aio-poll       poll    fail)
memory_c11_test(mb-notify-c11             mb-notify         poll    fail)
memory_c11_test(mb-ctx-prepare-c11        mb-ctx-prepare    gsource fail)
# The message-passing pair tso/pso show redundant: the notifier's half
# matters under c11 (the waiter's exchange reads notified = true, then
# stale timer-list state); the waiter's smp_mb() after its exchange stays
# redundant (the exchange acquires).
memory_c11_test(wmb-notify-c11            wmb-notify        timer   fail)
memory_c11_test(mb-notify-accept-c11      mb-notify-accept  timer   ok)
memory_c11_test(mb-notify-accept-poll-c11 mb-notify-accept  poll    ok)
# Redundant under c11 too, within the bound (the argument is in the docs).
memory_c11_test(rel-aio-poll-c11          rel-aio-poll      poll    ok)
memory_c11_test(rel-ctx-check-c11         rel-ctx-check     gsource ok)
memory_c11_test(acq-bh-timeout-c11        acq-bh-timeout    poll    ok)
memory_c11_test(acq-bh-timeout-gsource-c11 acq-bh-timeout   gsource ok)
# --memory through the qloop command (explore, replay file, story, shrink).
add_test(NAME memory-cli
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/memory/cli.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(memory-cli PROPERTIES LABELS "memory;harness" TIMEOUT 600)
# The handler-replace rule under c11: happens-before, not execution order.
add_test(NAME memory-c11-replace
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/memory/c11-replace.sh
                 $<TARGET_FILE_DIR:qloop-cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(memory-c11-replace PROPERTIES LABELS "memory;harness" TIMEOUT 300)
# Every example scenario under tso and pso, 200 swarm schedules each.
add_test(NAME memory-examples
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/memory/examples.sh
                 $<TARGET_FILE:qloop-cli> ${PROJECT_SOURCE_DIR} 200)
set_tests_properties(memory-examples PROPERTIES LABELS "memory;harness" TIMEOUT 900)
# The same workload under tso, pso and c11: no verdict, each seed's hash
# twice the same (weak choices come from the tape like every other choice).
foreach(mode tso pso c11)
  add_test(NAME memory-determinism-${mode} COMMAND sim-workload --seeds 500 --twice)
  set_tests_properties(memory-determinism-${mode} PROPERTIES LABELS "memory;sim"
                       TIMEOUT 300 ENVIRONMENT "QLOOP_SIM_MEMORY=${mode}")
endforeach()
