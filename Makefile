# servesim build. `make` builds build/servesim; `make test`, `make san`,
# `make bench`, `make run`. Dependencies come from pkg-config; when one is
# missing, tools/bootstrap installs the Debian packages first.

CC      ?= cc
PKGS    := gsl yaml-0.1 hdf5 cmocka
WARN    := -Wall -Wextra -Wshadow -Wconversion -Werror
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2 -g
# Recursive (=) so they are read after build/.deps has run the bootstrap.
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS))
DEP_LIBS   = $(shell pkg-config --libs gsl yaml-0.1 hdf5) -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka)

B       ?= build
SRCS    := $(sort $(filter-out sim/cli/main.c,$(wildcard sim/*/*.c)))
OBJS    := $(SRCS:%.c=$(B)/obj/%.o) $(B)/obj/gen/catalog.o $(B)/obj/gen/version.o
CATALOG := $(sort $(wildcard models/gpus/*.yaml models/llms/*.yaml))
TESTS   := $(sort $(wildcard tests/unit/test_*.c))
TBINS   := $(TESTS:tests/unit/%.c=$(B)/tests/%)
HDRS    := $(wildcard sim/*/*.h) $(wildcard tests/unit/*.h)

# `make V=1` shows whole commands.
Q       := $(if $(V),,@)

.PHONY: all test san bench run clean docs calibrate check-deps unit scenario-tests FORCE
.DELETE_ON_ERROR:

all: $(B)/servesim

$(B)/.deps:
	@mkdir -p $(B)
	@{ pkg-config --exists $(PKGS) && /usr/bin/python3 -c 'import h5py, matplotlib'; } 2>/dev/null || tools/bootstrap
	@pkg-config --exists $(PKGS) || { echo "missing: pkg-config modules $(PKGS)" >&2; exit 1; }
	@touch $@

$(B)/obj/%.o: %.c $(HDRS) $(B)/.deps
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CSTD) $(OPT) $(WARN) $(EXTRA_CFLAGS) $(DEP_CFLAGS) -c $< -o $@

# The catalog is compiled in, so servesim finds it wherever it runs.
$(B)/gen/catalog.c: $(CATALOG) tools/embed-catalog
	@mkdir -p $(dir $@)
	$(Q)tools/embed-catalog $@

$(B)/obj/gen/catalog.o: $(B)/gen/catalog.c $(HDRS) $(B)/.deps
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CSTD) $(OPT) $(WARN) $(EXTRA_CFLAGS) $(DEP_CFLAGS) -Isim -c $< -o $@

# The version (git describe) is regenerated at every make, and the file only
# replaced when it changes, so nothing relinks needlessly.
$(B)/gen/version.c: FORCE
	@mkdir -p $(dir $@)
	@tools/gen-version > $@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

$(B)/obj/gen/version.o: $(B)/gen/version.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(OPT) $(WARN) $(EXTRA_CFLAGS) -c $< -o $@

$(B)/libservesim.a: $(OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(B)/servesim: $(B)/obj/sim/cli/main.o $(B)/libservesim.a
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(EXTRA_CFLAGS) $(EXTRA_LDFLAGS) -o $@ $^ $(DEP_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libservesim.a $(HDRS) $(B)/.deps
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  TEST    $<")
	$(Q)$(CC) $(CSTD) $(OPT) $(WARN) -Wno-conversion $(EXTRA_CFLAGS) $(DEP_CFLAGS) -Isim \
		-o $@ $< $(B)/libservesim.a $(EXTRA_LDFLAGS) $(DEP_LIBS) $(CMOCKA_LIBS)

# A program that uses the library as a user's would (tests/lib).
$(B)/tests/%: tests/lib/%.c $(B)/libservesim.a $(HDRS) $(B)/.deps
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CSTD) $(OPT) $(WARN) $(EXTRA_CFLAGS) $(DEP_CFLAGS) -Isim \
		-o $@ $< $(B)/libservesim.a $(EXTRA_LDFLAGS) $(DEP_LIBS)

# Unit tests, then scenario tests against the binary; one closing tally.
test: $(B)/servesim $(TBINS) $(B)/tests/two_runs
	@tests/run-tests $(B)

san:
	$(MAKE) B=build/san OPT="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -DSERVESIM_DEBUG" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" test

$(B)/bench/%: tools/bench/%.c $(B)/libservesim.a $(HDRS) $(B)/.deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(OPT) $(WARN) $(DEP_CFLAGS) -Isim -o $@ $< $(B)/libservesim.a $(DEP_LIBS)

$(B)/tools/calibrate: tools/calibrate/calibrate.c $(B)/libservesim.a $(HDRS) $(B)/.deps
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CSTD) $(OPT) $(WARN) -Wno-conversion $(DEP_CFLAGS) -Isim -o $@ $< $(B)/libservesim.a $(DEP_LIBS)

# Fits the perf-model calibration to ../shared/data (see docs/perf-model.md).
calibrate: $(B)/tools/calibrate
	$(B)/tools/calibrate ../shared/data

bench: $(B)/servesim $(patsubst tools/bench/%.c,$(B)/bench/%,$(wildcard tools/bench/*.c))
	@tools/bench/run $(B)

run: $(B)/servesim
	$(B)/servesim run scenarios/quickstart.yaml --out out/quickstart

# Regenerates the key reference at the end of docs/scenario.md.
docs: $(B)/servesim
	@tools/gen-scenario-doc $(B)/servesim docs/scenario.md

clean:
	rm -rf build out
