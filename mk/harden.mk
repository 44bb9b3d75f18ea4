# Hardening checks, included by GNUmakefile:
#	include mk/harden.mk
#
#	make sanitize  build everything with ASan+UBSan into $(ASAN_BUILD) and
#	               run the unit tests and the integration tests against it
#	               (SANITIZE_TESTS="..." picks the integration tests; empty
#	               means all of them)
#	make fuzz      build the libFuzzer targets (clang) into $(FUZZ_BUILD)
#	               and run each for FUZZ_SECONDS (default 60), starting from
#	               regress/fuzz/corpus/<target>/; a crash fails the target
#	make fuzz-replay  replay every checked-in corpus file (seeds and past
#	               crashes) through its target once; .ci/run runs it
#	make client-leaks  the ASan client's exit paths with detect_leaks=1
#	               (regress/integ/leaks_client.py)
#	make valgrind  the unit tests under valgrind --leak-check=full, then the
#	               master's leak summary after VALGRIND_SESSIONS (1000) logins
#
# The sanitizer build defines MOAT_SANITIZE: privsep/seccomp.c then also
# allows the few calls ASan's runtime makes in the jail when it reports
# (see the comment there). Nothing else changes.

ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

ASAN_BUILD   ?= build-asan
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
SANITIZE_TESTS ?=
VALGRIND_SESSIONS ?= 1000

SAN_FLAGS    = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=all -DMOAT_SANITIZE
# abort_on_error: a finding kills the process with SIGABRT, so the test fails;
# detect_leaks=0: the forking daemon's children _exit with memory held.
# MOAT_SLOW=4: the tests' deadlines scale by it (regress/integ/moatlib.py).
# The client tests run the client without ASAN_OPTIONS: leak checks on.
SAN_ENV      = ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
               MOAT_SLOW=4

sanitize:
	@CFLAGS='$(SAN_FLAGS)' LDFLAGS='-fsanitize=address,undefined' \
	    $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) all
	@CFLAGS='$(SAN_FLAGS)' LDFLAGS='-fsanitize=address,undefined' \
	    $(SAN_ENV) $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) unit
	@$(SAN_ENV) MOAT_BUILD=$(CURDIR)/$(ASAN_BUILD) \
	    MOAT_TESTS='$(SANITIZE_TESTS)' sh regress/integ/run.sh

# ---- libFuzzer -----------------------------------------------------------
FUZZ_TARGETS = $(patsubst regress/fuzz/fuzz_%.c,%,$(wildcard regress/fuzz/fuzz_*.c))
FUZZ_BINS    = $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_FLAGS   = -O1 -g -fno-omit-frame-pointer -DMOAT_FUZZ -DMOAT_SANITIZE \
               -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all
# clang's -Wextra flags libseccomp's SCMP_A0 macro (not our code)
FUZZ_WARN    = $(WARN) -Wno-missing-field-initializers
FUZZ_LIBS    = $(FUZZ_BUILD)/libdaemon.a $(FUZZ_BUILD)/libprivsep.a \
               $(FUZZ_BUILD)/libclient.a $(FUZZ_BUILD)/libshared.a

$(FUZZ_BUILD)/fuzz_%: regress/fuzz/fuzz_%.c fuzz-libs
	$(FUZZ_CC) $(filter-out -Werror,$(CFLAGS)) $(FUZZ_FLAGS) -Wno-error \
	    -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS) $(LIBS_CLI) $(LIBS)

fuzz-libs:
	@CC=$(FUZZ_CC) CFLAGS='$(FUZZ_FLAGS)' \
	    $(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) \
	    WARN='$(FUZZ_WARN)' $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

# Each target runs FUZZ_SECONDS from its corpus (new finds go to a scratch
# dir, not the checked-in corpus); crashes land in $(FUZZ_BUILD)/crash-*.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t regress/fuzz/corpus/$$t; \
	    $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	        -artifact_prefix=$(FUZZ_BUILD)/$$t- -print_final_stats=1 \
	        $(FUZZ_BUILD)/corpus/$$t regress/fuzz/corpus/$$t \
	        2>$(FUZZ_BUILD)/$$t.log || { tail -40 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
	    grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_BUILD)/$$t.log || true; \
	done

# Replay the checked-in corpora (seeds and every past crash) once.
fuzz-replay: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    echo "== replay $$t: $$(ls regress/fuzz/corpus/$$t | wc -l) inputs"; \
	    $(FUZZ_BUILD)/fuzz_$$t -runs=0 regress/fuzz/corpus/$$t \
	        2>$(FUZZ_BUILD)/$$t.replay.log || \
	        { tail -40 $(FUZZ_BUILD)/$$t.replay.log; exit 1; }; \
	done

# ---- valgrind ------------------------------------------------------------
VALGRIND = valgrind -q --error-exitcode=1 --leak-check=full \
           --errors-for-leak-kinds=definite,indirect

VG_BUILD     ?= build-vg

# The master check runs a daemon built with -DMOAT_VALGRIND in $(VG_BUILD):
# valgrind cannot run under seccomp nor lower RLIMIT_NOFILE, so that build
# loads no filter and tolerates the refusal (privsep/seccomp.c, sandbox.c).
valgrind: all $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; \
	    case $$t in */test_vpath) \
	        echo "   (case join only: valgrind 3.19 has no openat2)"; \
	        CK_RUN_CASE=join CK_FORK=no $(VALGRIND) $$t ;; \
	    *) CK_FORK=no $(VALGRIND) $$t ;; esac; done
	@CFLAGS='-O1 -g -DMOAT_VALGRIND' $(MAKE) --no-print-directory \
	    BUILD=$(VG_BUILD) all
	@MOAT_BUILD=$(CURDIR)/$(VG_BUILD) MOAT_SESSIONS=$(VALGRIND_SESSIONS) \
	    /usr/bin/python3 regress/integ/valgrind_master.py

.PHONY: sanitize fuzz fuzz-build fuzz-libs fuzz-replay valgrind

# The client's exit paths under LeakSanitizer (TLS contexts, sessions and
# certificates, libedit): regress/integ/leaks_client.py with the ASan build.
client-leaks:
	@CFLAGS='$(SAN_FLAGS)' LDFLAGS='-fsanitize=address,undefined' \
	    $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) all
	@MOAT_BUILD=$(CURDIR)/$(ASAN_BUILD) /usr/bin/python3 \
	    regress/integ/leaks_client.py

.PHONY: client-leaks
