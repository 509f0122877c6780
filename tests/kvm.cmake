# Real-KVM smoke layer (harness/kvm).  Labels:
#   kvm-devices — the UART and doorbell models, no /dev/kvm (always run)
#   kvm         — real VMs; skip (77) loudly without a usable /dev/kvm
if(TARGET qloop-kvm-fuzz-devices)
  add_executable(test-devices kvm/test-devices.c)
  target_link_libraries(test-devices PRIVATE qloop-kvm-fuzz-devices)
  add_test(NAME test-devices COMMAND test-devices)
  set_tests_properties(test-devices PROPERTIES LABELS "unit;kvm-devices"
                       TIMEOUT 120)
endif()

# The monitor server against hostile clients (no KVM, real sockets).
if(TARGET qloop-kvm-qmp)
  add_executable(test-qmp kvm/test-qmp.c)
  target_link_libraries(test-qmp PRIVATE qloop-kvm-qmp)
  target_compile_definitions(test-qmp PRIVATE _GNU_SOURCE)
  add_test(NAME test-qmp COMMAND test-qmp)
  set_tests_properties(test-qmp PROPERTIES LABELS "unit;kvm-devices"
                       TIMEOUT 120)
endif()

if(TARGET qloop-smoke)
  add_test(NAME kvm-smoke COMMAND qloop-smoke --timeout-ms 60000)
  set_tests_properties(kvm-smoke PROPERTIES LABELS "kvm" TIMEOUT 300
                       SKIP_RETURN_CODE 77)
endif()

if(TARGET qloop-vm)
  add_executable(test-vmm kvm/test-vmm.c)
  add_dependencies(test-vmm qloop-vm qloop-test-guest)
  target_compile_definitions(test-vmm PRIVATE
    QLOOP_VM_PATH="$<TARGET_FILE:qloop-vm>"
    QLOOP_GUEST_DIR="${QLOOP_GUEST_DIR}")
  add_test(NAME test-vmm COMMAND test-vmm)
  set_tests_properties(test-vmm PROPERTIES LABELS "kvm" TIMEOUT 300
                       SKIP_RETURN_CODE 77)
endif()

# The VMM's host side with no KVM (qloop-vm --no-kvm): hostile monitor
# clients, an fd flood, a console pipe nobody drains, SIGTERM.
if(TARGET qloop-vm)
  add_executable(test-vmm-host kvm/test-vmm-host.c)
  add_dependencies(test-vmm-host qloop-vm)
  target_compile_definitions(test-vmm-host PRIVATE _GNU_SOURCE
    QLOOP_VM_PATH="$<TARGET_FILE:qloop-vm>")
  add_test(NAME test-vmm-host COMMAND test-vmm-host)
  set_tests_properties(test-vmm-host PROPERTIES LABELS "unit;kvm-devices"
                       TIMEOUT 180)
endif()

if(TARGET qloop-kvm)
  add_executable(test-testdev kvm/test-testdev.c)
  target_link_libraries(test-testdev PRIVATE qloop-kvm)
  add_test(NAME test-testdev COMMAND test-testdev)
  set_tests_properties(test-testdev PROPERTIES LABELS "unit;kvm-devices"
                       TIMEOUT 60)
endif()

if(TARGET qloop-kvm-fuzz-vmm)
  add_executable(test-vmm-glue kvm/test-vmm-glue.c)
  target_link_libraries(test-vmm-glue PRIVATE qloop-kvm-fuzz-vmm)
  add_test(NAME test-vmm-glue COMMAND test-vmm-glue)
  set_tests_properties(test-vmm-glue PROPERTIES LABELS "unit;kvm-devices"
                       TIMEOUT 300)
endif()

if(TARGET qloop-kvm-devices)
  add_executable(test-linux-boot kvm/test-linux-boot.c)
  target_link_libraries(test-linux-boot PRIVATE qloop-kvm-devices)
  target_compile_definitions(test-linux-boot PRIVATE
    QLOOP_LINUX_DIR_DEFAULT="${PROJECT_SOURCE_DIR}/build/kvm-linux")
  add_test(NAME test-linux-boot COMMAND test-linux-boot)
  set_tests_properties(test-linux-boot PROPERTIES LABELS "unit;kvm-linux"
                       TIMEOUT 60 SKIP_RETURN_CODE 77)
endif()

# The same device paths on the simulated OS (choice tape, fault points).
if(TARGET qloop-kvm-devices AND TARGET qloop-sim)
  add_executable(test-devices-sim kvm/test-devices-sim.c)
  target_link_libraries(test-devices-sim PRIVATE qloop-sim qloop-kvm-devices)
  target_include_directories(test-devices-sim PRIVATE
                             ${PROJECT_SOURCE_DIR}/sim)
  add_test(NAME test-devices-sim COMMAND test-devices-sim)
  set_tests_properties(test-devices-sim PROPERTIES
                       LABELS "unit;sim;kvm-devices" TIMEOUT 300)
endif()
if(TARGET test-devices-sim)
  # The test's own self-check: one lost irqfd signal must be found (hang).
  add_executable(test-devices-sim-lose-irq kvm/test-devices-sim.c)
  target_link_libraries(test-devices-sim-lose-irq PRIVATE qloop-sim
                        qloop-kvm-devices)
  # And one lost console drain wake-up must be found (hang) too.
  add_executable(test-devices-sim-lose-wake kvm/test-devices-sim.c)
  target_link_libraries(test-devices-sim-lose-wake PRIVATE qloop-sim
                        qloop-kvm-devices)
  target_include_directories(test-devices-sim-lose-wake PRIVATE
                             ${PROJECT_SOURCE_DIR}/sim)
  target_compile_definitions(test-devices-sim-lose-wake PRIVATE
                             QLOOP_TEST_LOSE_WAKE)
  add_test(NAME test-devices-sim-lose-wake
           COMMAND test-devices-sim-lose-wake 7)
  set_tests_properties(test-devices-sim-lose-wake PROPERTIES
                       LABELS "unit;sim;kvm-devices" TIMEOUT 60 WILL_FAIL TRUE)
  target_include_directories(test-devices-sim-lose-irq PRIVATE
                             ${PROJECT_SOURCE_DIR}/sim)
  target_compile_definitions(test-devices-sim-lose-irq PRIVATE
                             QLOOP_TEST_LOSE_IRQ)
  add_test(NAME test-devices-sim-lose-irq COMMAND test-devices-sim-lose-irq 7)
  set_tests_properties(test-devices-sim-lose-irq PROPERTIES
                       LABELS "unit;sim;kvm-devices" TIMEOUT 60 WILL_FAIL TRUE)
endif()

if(TARGET qloop-smoke)
  # The skip path itself: without KVM, qloop-smoke must say so and exit 77.
  add_test(NAME kvm-smoke-no-kvm COMMAND qloop-smoke)
  set_tests_properties(kvm-smoke-no-kvm PROPERTIES LABELS "unit;kvm-devices"
    ENVIRONMENT "QLOOP_KVM_DEV=/nonexistent/kvm"
    PASS_REGULAR_EXPRESSION "SKIP everything: no usable /nonexistent/kvm"
    TIMEOUT 30)
endif()

# serial.c's stdin pause, its room check and pause in one critical section:
# the test runs the guest's drain right after serial.c drops the lock.
if(TARGET qloop-kvm)
  add_executable(test-serial-stdin kvm/test-serial-stdin.c)
  target_link_libraries(test-serial-stdin PRIVATE qloop-kvm
                        -Wl,--wrap=qemu_mutex_unlock)
  add_test(NAME test-serial-stdin COMMAND test-serial-stdin)
  set_tests_properties(test-serial-stdin PROPERTIES LABELS "unit;kvm-devices"
                       TIMEOUT 60)
endif()
