# fuzz/fuzz.mk — build every fuzz target from source, one flavour per OUT.
#
# Called by fuzz/build.sh (flavours: libfuzzer, afl, cmplog, replay,
# coverage) and by fuzz/oss-fuzz/build.sh.  The sources are read from the
# CMake lists, so nothing here needs editing when a file is added:
#   loop/CMakeLists.txt  QLOOP_CORE_SOURCES   the loop core
#   sim/CMakeLists.txt   QLOOP_SIM_SOURCES    the simulated OS
#   harness/*.c          minus cmd-*.c and qloop.c (the command line)
#
#   make -f fuzz/fuzz.mk OUT=build/fuzz/libfuzzer CC=clang \
#        CFLAGS='-g -O1 -fsanitize=fuzzer-no-link,address,undefined' \
#        ENGINE='-fsanitize=fuzzer,address,undefined'
#
# ENGINE: link flags that bring main() (libFuzzer, $LIB_FUZZING_ENGINE);
# DRIVER=1 links fuzz/driver.c instead (plain replay driver, or AFL++
# persistent mode when CC is afl-clang-fast).  GLIB_STATIC=1 links glib's
# static archives (OSS-Fuzz).  LINK: the linking driver ($CXX on OSS-Fuzz).
# BENCH_CFLAGS: flags for the test bench's objects instead of CFLAGS — the
# simulator (sim/*.c) and the oracles (BENCH_HARNESS below) — so that the
# sanitizer flavours instrument the loop core, the decoder and the runner
# but not the bench, whose every trace event and scheduling point would
# otherwise be checked (fuzz/build.sh says what each flavour passes).
# CORE_CFLAGS: flags added for the loop core's objects and the runner
# (fuzz/build.sh: no comparison tracing there — see the flavours).
# VARIANT=NAME builds the core with the one file variants/NAME.patch names
# patched (variants/apply.sh), as CMake builds qloop-NAME.  QLOOP_CLI=1
# also links OUT/qloop — the qloop command from the very objects of the
# targets (sanitizer flavours), which `qloop fuzz` triages crash files with.
SRC := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
OUT ?= $(SRC)/build/fuzz/libfuzzer
CFLAGS ?= -g -O1 -fsanitize=fuzzer-no-link,address,undefined
ENGINE ?= -fsanitize=fuzzer,address,undefined
BENCH_CFLAGS ?= $(CFLAGS)
CORE_CFLAGS ?=
DRIVER ?= 0
LINK ?= $(CC)
WARN ?= -Wall -Wextra -Werror -Wno-unused-parameter
HOSTCC ?= cc

TARGETS := loop-fuzz scn-parse-fuzz replay-parse-fuzz devices-fuzz vmm-fuzz
GLIB_CFLAGS := $(shell pkg-config --cflags glib-2.0)
ifeq ($(GLIB_STATIC),1)
# OSS-Fuzz runs targets where glib is not installed: link its archives.
GLIB_LIBS := $(patsubst -l%,-l:lib%.a,$(filter-out -pthread -lm,\
    $(shell pkg-config --static --libs glib-2.0))) -pthread -lm
else
GLIB_LIBS := $(shell pkg-config --libs glib-2.0)
endif
# The simulator wraps the glib calls that may write glib's wake-up eventfd
# (sim/glib-wakeup.h); the fuzz targets trust the wrappers' prediction (the
# CMake builds audit it with a poll(2) each time).
# -u pulls the wrappers' object in before the archives are scanned: with
# GLIB_STATIC=1, glib's own archives call wrapped functions too, after
# libqloop-fuzz.a was searched.
SIM_WRAPS = $(addprefix -Wl$(COMMA)--wrap=,$(shell cat $(SRC)/sim/glib-wakeup.syms)) \
    -Wl,-u,__wrap_g_source_attach

OPEN := (
CLOSE := )
COMMA := ,
cmake_list = $(addprefix $(1)/,$(shell sed -n '/^set$(OPEN)$(2)/,/CACHE/p' \
    $(SRC)/$(1)/CMakeLists.txt | grep -o '[A-Za-z0-9_-]*\.c'))
CORE := $(call cmake_list,loop,QLOOP_CORE_SOURCES)
SIM := $(call cmake_list,sim,QLOOP_SIM_SOURCES)
VARIANT ?=
ifneq ($(VARIANT),)
# The variant's core file, patched into OUT by variants/apply.sh (its own
# rule below), compiled as obj/variant/FILE.o.
VARIANT_REPLACES := $(shell sh $(SRC)/variants/apply.sh --core $(VARIANT))
ifeq ($(VARIANT_REPLACES),)
$(error variants/$(VARIANT).patch: missing, or names no "+++ b/loop/FILE.c")
endif
VARIANT_FILE := $(OUT)/variant/$(notdir $(VARIANT_REPLACES))
VARIANT_OBJ := $(OUT)/obj/variant/$(basename $(notdir $(VARIANT_REPLACES))).o
CORE := $(filter-out $(VARIANT_REPLACES),$(CORE))
# Replay files and hints name the variant (harness/cli.c cli_variant()).
VARIANT_CFLAGS := -DQLOOP_CORE_VARIANT='"$(VARIANT)"'
endif
HARNESS := $(filter-out harness/cmd-%.c harness/qloop.c, \
    $(patsubst $(SRC)/%,%,$(sort $(wildcard $(SRC)/harness/*.c))))
LIB_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(CORE) $(SIM) $(HARNESS)) $(VARIANT_OBJ)
ifeq ($(DRIVER),1)
MAIN_OBJ := $(OUT)/obj/fuzz/driver.o
endif
CLI_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(filter harness/cmd-%.c harness/qloop.c, \
    $(patsubst $(SRC)/%,%,$(sort $(wildcard $(SRC)/harness/*.c)))))

# The oracles: the reference model and what renders a run's story.
BENCH_HARNESS := $(filter harness/idmap.c harness/model.c harness/story.c harness/export-%.c,$(HARNESS))
BENCH_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(SIM) $(BENCH_HARNESS))

INCLUDES := -I$(SRC)/include -I$(SRC)/include/qemu-compat -I$(SRC)/sim \
    -I$(SRC)/loop -I$(SRC)/harness
OBJ_CFLAGS = $(CFLAGS)
$(BENCH_OBJS): OBJ_CFLAGS = $(BENCH_CFLAGS)
$(patsubst %.c,$(OUT)/obj/%.o,$(CORE) harness/runner.c) $(VARIANT_OBJ): OBJ_CFLAGS = $(CFLAGS) $(CORE_CFLAGS)
$(OUT)/obj/harness/cli.o: OBJ_CFLAGS = $(CFLAGS) $(VARIANT_CFLAGS)
ALL_CFLAGS = -std=gnu11 $(WARN) $(OBJ_CFLAGS) $(INCLUDES) $(GLIB_CFLAGS) \
    -DQLOOP_SIM_GLIB_WAKEUP_TRUST

# Rebuild everything when the compiler or its flags change.
# The variant is not among them: it changes only its own file's object
# and harness/cli.o (.variant below), so a variant's build can start from
# a copy of its flavour's objects (fuzz/build.sh).
FLAGS_LINE := $(CC) -std=gnu11 $(WARN) $(CFLAGS) $(INCLUDES) $(GLIB_CFLAGS) | \
    $(BENCH_CFLAGS) | $(CORE_CFLAGS) | $(LINK) $(ENGINE) | $(DRIVER)
$(shell mkdir -p $(OUT) && (echo '$(FLAGS_LINE)' | cmp -s - $(OUT)/.flags || \
    echo '$(FLAGS_LINE)' > $(OUT)/.flags))
$(shell echo '$(VARIANT)' | cmp -s - $(OUT)/.variant || \
    echo '$(VARIANT)' > $(OUT)/.variant)

# EXTRA: more programs for one flavour (coverage: scn-replay, which runs
# .scn and replay files through the runner for fuzz/coverage.sh).
EXTRA ?=
OPTIONS := loop scn-parse replay-parse vmm
all: $(addprefix $(OUT)/,$(TARGETS) $(EXTRA)) $(OUT)/loop.dict \
     $(OUT)/replay-parse.dict $(OUT)/scn-parse.dict $(OUT)/devices.dict \
     $(OUT)/vmm.dict \
     $(patsubst %,$(OUT)/%-fuzz.options,$(OPTIONS)) \
     $(if $(filter 1,$(QLOOP_CLI)),$(OUT)/qloop)
.PHONY: all
$(OUT)/obj/harness/cli.o: $(OUT)/.variant

$(OUT)/obj/%.o: $(SRC)/%.c $(OUT)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

ifneq ($(VARIANT),)
$(VARIANT_FILE): $(SRC)/variants/$(VARIANT).patch $(SRC)/$(VARIANT_REPLACES) \
                 $(SRC)/variants/apply.sh
	sh $(SRC)/variants/apply.sh $(VARIANT) $@

$(VARIANT_OBJ): $(VARIANT_FILE) $(OUT)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@
endif

# Remade when its list of objects changes, like libqloop-vmm.a below: a
# source file added to the core must not leave an old archive in use.
$(shell mkdir -p $(OUT) && (echo '$(LIB_OBJS)' | cmp -s - $(OUT)/.lib-objs || \
    echo '$(LIB_OBJS)' > $(OUT)/.lib-objs))
$(OUT)/libqloop-fuzz.a: $(LIB_OBJS) $(OUT)/.lib-objs
	rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(OUT)/%-fuzz: $(OUT)/obj/fuzz/%-fuzz.o $(MAIN_OBJ) $(OUT)/libqloop-fuzz.a
	$(LINK) $(CFLAGS) $(SIM_WRAPS) $^ $(ENGINE) $(GLIB_LIBS) -o $@

# The command line knows where its sources are (qloop fuzz, coverage).
$(CLI_OBJS): ALL_CFLAGS += -DQLOOP_SOURCE_DIR='"$(SRC)"'
$(OUT)/qloop: $(CLI_OBJS) $(OUT)/libqloop-fuzz.a
	$(LINK) $(CFLAGS) $(SIM_WRAPS) $^ $(GLIB_LIBS) -o $@

$(OUT)/scn-replay: $(OUT)/obj/fuzz/scn-replay.o $(OUT)/libqloop-fuzz.a
	$(LINK) $(CFLAGS) $(SIM_WRAPS) $^ $(ENGINE) $(GLIB_LIBS) -o $@

# The hostile guest (issue: real KVM): the UART and doorbell device models
# driven by random port I/O, with no KVM; its entry point lives in
# harness/kvm/fuzz-devices.c.
KVM_DEVICE_SRCS := harness/kvm/fuzz-devices.c harness/kvm/uart.c \
    harness/kvm/doorbell.c harness/kvm/linux-boot.c \
    harness/kvm/fuzz-linux-boot.c
$(OUT)/devices-fuzz: $(patsubst %.c,$(OUT)/obj/%.o,$(KVM_DEVICE_SRCS)) $(MAIN_OBJ)
	$(LINK) $(CFLAGS) $^ $(ENGINE) $(GLIB_LIBS) -o $@

$(OUT)/devices.dict: $(SRC)/fuzz/devices.dict
	cp $< $@

# The hostile guest against the VMM's own glue (serial.c, ioport.c), entry
# point in harness/kvm/fuzz-vmm.c.  It runs on the real main loop, so the
# loop core is compiled a second time, against the host backend
# (loop/host/qloop-os-inline.h), into obj-host/ beside the simulator-backed
# objects; the VMM's files are read from harness/kvm/CMakeLists.txt
# (qloop-kvm and the libraries it links) and put in one archive, so the
# linker takes only what fuzz-vmm.c reaches.  Always the unpatched core:
# VARIANT=NAME is for the simulated targets.
cmake_lib = $(addprefix harness/kvm/,$(shell sed -n '/^add_library$(OPEN)$(1) /,/$(CLOSE)/p' \
    $(SRC)/harness/kvm/CMakeLists.txt | grep -o '[A-Za-z0-9_-]*\.c'))
HOST_SRCS := $(addprefix loop/,$(shell sed -n '/^set$(OPEN)QLOOP_HOST_SOURCES/,/$(CLOSE)/p' \
    $(SRC)/loop/CMakeLists.txt | grep -o '[A-Za-z0-9_/-]*\.c')) loop/host/coro-x86_64.c
VMM_SRCS := $(call cmake_lib,qloop-kvm) $(call cmake_lib,qloop-kvm-devices) \
    $(call cmake_lib,qloop-kvm-qmp) $(HOST_SRCS) \
    $(patsubst $(SRC)/%,%,$(call cmake_list,loop,QLOOP_CORE_SOURCES))
VMM_OBJS := $(patsubst %.c,$(OUT)/obj-host/%.o,$(VMM_SRCS))
HOST_INCLUDES := -I$(SRC)/include -I$(SRC)/include/qemu-compat \
    -I$(SRC)/loop/host -I$(SRC)/loop -I$(SRC)/harness/kvm
# ioport.c stops the run through run.c, which brings the whole VMM with it:
# the monitor and its JSON parser, json-glib.  Debian and Ubuntu ship no
# static json-glib, so with GLIB_STATIC=1 (OSS-Fuzz) this one target links
# glib and json-glib as shared libraries found beside it ($ORIGIN/lib):
# fuzz/oss-fuzz/build.sh copies them there (a static glib beside a shared
# json-glib would be two glibs in one process).
JSONGLIB_CFLAGS := $(shell pkg-config --cflags json-glib-1.0)
VMM_LIBS := $(shell pkg-config --libs json-glib-1.0 glib-2.0)
ifeq ($(GLIB_STATIC),1)
# DT_RPATH, not RUNPATH: json-glib's own dependencies (gio, gmodule, ...)
# are found through it too.
VMM_LIBS += -Wl,--disable-new-dtags -Wl,-rpath,'$$ORIGIN/lib'
endif

# As harness/kvm/CMakeLists.txt: the VMM's files want _GNU_SOURCE.
VMM_DEFS :=
$(filter $(OUT)/obj-host/harness/%,$(VMM_OBJS)) \
    $(OUT)/obj-host/harness/kvm/fuzz-vmm.o: VMM_DEFS := -D_GNU_SOURCE
$(OUT)/obj-host/%.o: $(SRC)/%.c $(OUT)/.flags
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(VMM_DEFS) $(WARN) $(CFLAGS) $(HOST_INCLUDES) \
	    $(GLIB_CFLAGS) $(JSONGLIB_CFLAGS) -MMD -MP -c $< -o $@

# The archive is remade when its list of objects changes (.SECONDARY alone
# would not build an object newly added to an archive already up to date).
$(shell echo '$(VMM_OBJS)' | cmp -s - $(OUT)/.vmm-objs || \
    echo '$(VMM_OBJS)' > $(OUT)/.vmm-objs)
$(OUT)/libqloop-vmm.a: $(VMM_OBJS) $(OUT)/.vmm-objs
	rm -f $@ && ar rcs $@ $(filter %.o,$^)

$(OUT)/vmm-fuzz: $(OUT)/obj-host/harness/kvm/fuzz-vmm.o $(MAIN_OBJ) \
                 $(OUT)/libqloop-vmm.a
	$(LINK) $(CFLAGS) $^ $(ENGINE) $(VMM_LIBS) -o $@

$(OUT)/vmm.dict: $(SRC)/fuzz/vmm.dict
	cp $< $@


# The generator runs at build time, so it is built without sanitizers.
$(OUT)/gen: $(SRC)/fuzz/gen.c $(SRC)/harness/decode.c $(SRC)/harness/scn.c \
            $(SRC)/harness/decode.h $(SRC)/harness/scenario.h
	$(HOSTCC) -std=gnu11 -O1 $(WARN) -I$(SRC)/harness $(GLIB_CFLAGS) \
	    $(filter %.c,$^) $(GLIB_LIBS) -o $@

$(OUT)/loop.dict: $(OUT)/gen
	$(OUT)/gen dict loop > $@.tmp && mv $@.tmp $@

$(OUT)/replay-parse.dict: $(OUT)/gen $(SRC)/fuzz/scn.dict
	$(OUT)/gen dict replay-parse $(SRC)/fuzz/scn.dict > $@.tmp && mv $@.tmp $@

$(OUT)/scn-parse.dict: $(SRC)/fuzz/scn.dict
	cp $< $@

# <binary>.options next to each binary, as ClusterFuzz lays them out, so a
# build directory runs by hand with the settings `qloop fuzz` uses.
$(OUT)/%-fuzz.options: $(SRC)/fuzz/%.options
	cp $< $@

# Every object's header dependencies, the qloop command's too: without
# them cmd-*.o kept an old Scenario's layout after a header changed, and
# the flavour's qloop (what `qloop fuzz` triages crashes with) overflowed
# its stack in an incremental build.
-include $(LIB_OBJS:.o=.d) $(VMM_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(OUT)/obj/fuzz/*.d
.SECONDARY:
