# btf2isf — build, test, benchmark.  `make`, `make demo`, `make check`, `make check SAN=1`, `make bench`.
CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.1.0

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
           -DBTF2ISF_VERSION='"$(VERSION)"' -MMD -MP
# Everything is linked in, libc too, as a static PIE (so still placed at a
# random address): loading and relocating the 16 shared objects the
# libraries come as took 4-6 ms of every run, as long as scanning a memory
# image, and the binary runs on any x86_64 Linux, e.g. copied onto a system
# under investigation.  (snappy is C++: its runtime too.)
LIBS    := -larchive -lbpf -lelf -lz -llzma -lzstd -llz4 -lbz2 -llzo2 -lsnappy -lxxhash -ljson-c \
           -lnettle -lstdc++

# Objects of different compilers never mix: clang builds go to *-clang.
CC_TAG  := $(if $(findstring clang,$(notdir $(firstword $(CC)))),-clang)

ifeq ($(FUZZ),1)
# libFuzzer harnesses (make fuzz): clang only; the library is instrumented for
# coverage, the harnesses link libFuzzer's main.
BUILD   := build/fuzz
CFLAGS  += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined -static-libgcc
LDLIBS  := -Wl,-Bstatic $(LIBS) -Wl,-Bdynamic -lm -lpthread
else ifeq ($(SAN),1)
BUILD   := build/san$(CC_TAG)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The sanitizers' runtimes need a shared libc.
LDFLAGS += -fsanitize=address,undefined -static-libgcc
LDLIBS  := -Wl,-Bstatic $(LIBS) -Wl,-Bdynamic -lm -lpthread
else
BUILD   := build/rel$(CC_TAG)
LDFLAGS += -static-pie
LDLIBS  := $(LIBS) -lm
endif

LIB_SRCS  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/symdb_data.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Every fuzz harness is also built with a plain replay main as a unit test
# (test_fuzz_NAME), which feeds it tests/fuzz/regress/NAME/: any compiler.
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
UNIT_BINS += $(FUZZ_NAMES:%=$(BUILD)/tests/test_fuzz_%)
BIN       := $(BUILD)/btf2isf

all: $(BIN) btf2isf

# Convenience link at the top so the README commands stay short.
btf2isf: $(BIN)
	ln -sf $(BIN) $@

$(BIN): $(BUILD)/main.o $(BUILD)/libb2i.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libb2i.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

# The symbol-type database is reviewed as text and compiled in: the packer
# links the library objects except the table itself.
PACK_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/%.o)

$(BUILD)/symdb-pack: scripts/symdb-pack.c $(PACK_OBJS)
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(PACK_OBJS) $(LDLIBS)

$(BUILD)/symdb_data.c: symdb/symdb.txt scripts/symdb2c.sh $(BUILD)/symdb-pack | $(BUILD)
	sh scripts/symdb2c.sh $< $(BUILD)/symdb-pack > $@.tmp && mv $@.tmp $@

$(BUILD)/symdb_data.o: $(BUILD)/symdb_data.c
	$(CC) $(CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libb2i.a | $(BUILD)/tests
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/libb2i.a $(LDLIBS)

$(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(BUILD)/libb2i.a | $(BUILD)/tests
	$(CC) $(CFLAGS) -Isrc -Itests/fuzz -DFUZZ_NAME='"$*"' $(LDFLAGS) -o $@ $< tests/fuzz/replay.c \
	    $(BUILD)/libb2i.a $(LDLIBS)

# The libFuzzer binaries themselves (FUZZ=1 CC=clang; `make fuzz` sets both).
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libb2i.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Isrc -Itests/fuzz $(LDFLAGS) -o $@ $< $(BUILD)/libb2i.a $(LDLIBS)

fuzz-bins: $(FUZZ_NAMES:%=$(BUILD)/fuzz_%)

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

units: $(UNIT_BINS)

# symdb tooling (README "The symdb"): the DWARF reader needs libdw (libdw-dev);
# the rest of the build does not.
$(BUILD)/symdb-gen: scripts/symdb-gen.c $(BUILD)/libb2i.a
	$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/libb2i.a -ldw $(LDLIBS)

symdb-gen: $(BUILD)/symdb-gen

# Rows of every cached DWARF kernel (.cache/dbg/, scripts/symdb-fetch) into
# symdb/kernels/, merged into symdb/symdb.txt.
symdb:
	BUILD=$(BUILD) sh scripts/symdb-update

check: all units
	BTF2ISF=$(abspath $(BIN)) UNIT_DIR=$(abspath $(BUILD)/tests) SAN=$(SAN) \
	    bash tests/run

# The README's first command: Debian's current kernel booted under QEMU, its
# profile made from the memory image alone and checked on it (scripts/demo).
demo: all
	BTF2ISF=$(abspath $(BIN)) bash scripts/demo

bench: all
	BTF2ISF=$(abspath $(BIN)) python3 scripts/bench

# Fuzzing (README "Fuzzing"): each harness for FUZZ_SECONDS on the seeds
# scripts/fuzz-seeds makes in .cache/fuzz/; fuzz-smoke is CI's short run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60

fuzz:
	$(MAKE) FUZZ=1 CC=$(FUZZ_CC) fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz build/fuzz $(FUZZ_ONLY)

fuzz-smoke:
	$(MAKE) FUZZ=1 CC=$(FUZZ_CC) fuzz-bins
	FUZZ_SECONDS=20 scripts/fuzz build/fuzz $(FUZZ_ONLY)

install: all
	install -D -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/btf2isf
	install -D -m 644 man/btf2isf.1 $(DESTDIR)$(PREFIX)/share/man/man1/btf2isf.1

clean:
	rm -rf build btf2isf

.PHONY: all units check demo bench install clean symdb-gen symdb fuzz fuzz-smoke fuzz-bins
-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
