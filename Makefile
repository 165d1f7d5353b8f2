# mxshield — GNU Makefile.  `make run` builds and serves with the embedded
# default configuration; `make check` installs test dependencies, builds and
# runs every test.

PKGS      := libevent libpcre2-8 libunbound lmdb libcrypto libsystemd hiredis libpsl
CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -fno-common
CPPFLAGS  += -Isrc -D_GNU_SOURCE
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS    += $(PKG_LIBS)

BUILD     := build
SRCS      := $(sort $(wildcard src/*/*.c))
MAIN_SRC  := src/cli/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(SRCS))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(MAIN_SRC:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin

.PHONY: all run check unit unit-asan proto proto-asan docs bench deps test-deps clean install deb build-deps-check \
	fuzz fuzz-smoke fuzz-bins fuzz-deps FORCE check-normal check-asan

all: $(BUILD)/mxshield $(BUILD)/mxshield-bench $(BUILD)/mxshield-ceiling $(BUILD)/mxshield-milterload

# `make` installs the build dependencies it lacks (as root; as another user
# scripts/deps names them and the apt-get command); pkg-config finding every
# library costs nothing more.
build-deps-check:
	@pkg-config --exists $(PKGS) 2>/dev/null || scripts/deps build
$(LIB_OBJS) $(MAIN_OBJ): | build-deps-check

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

# the dashboard page is assembled into page.o (.incbin)
$(BUILD)/src/http/page.o: src/http/dashboard.html

$(BUILD)/libmxshield.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/mxshield: $(MAIN_OBJ) $(BUILD)/libmxshield.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/mxshield-bench: bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(LDFLAGS) $(LDLIBS) -lm

$(BUILD)/mxshield-dnscache: bench/dnscache.c $(BUILD)/libmxshield.a
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/mxshield-milterload: bench/milterload.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -pthread -o $@ $<

$(BUILD)/mxshield-dkimbench: bench/dkimbench.c $(BUILD)/libmxshield.a
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/mxshield-ceiling: bench/ceiling.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmxshield.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(WARN) -o $@ $< $(BUILD)/libmxshield.a $(LDFLAGS) $(LDLIBS) -lcmocka

deps:
	@scripts/deps build

test-deps:
	@scripts/deps test

# The embedded default, whatever /etc/mxshield/mxshield.conf says, with its
# database and control socket in the checkout (writable by any user).
RUN_DIR   := $(CURDIR)/$(BUILD)/run
run: deps
	$(MAKE) all
	@mkdir -p $(RUN_DIR)
	$(BUILD)/mxshield serve --embedded-default -o data_directory=$(RUN_DIR)

# Unit tests (cmocka), then the same tests under ASan+UBSan, then the
# protocol / scenario tests against the real daemon over real sockets.
# Two chains run at once, sharing CHECK_JOBS compile jobs: the normal build,
# its unit tests, the docs check and the protocol tests against
# build/mxshield; and the ASan+UBSan build, its unit tests, the fuzz seeds
# (fuzz-smoke) and the protocol tests against build-asan/mxshield.  The
# first chain's protocol tests start while the second still compiles (half
# of a protocol test is waiting: on Postfix, on a timeout it provokes, on a
# daemon's start), each chain's in CHECK_JOBS workers (tests/proto/run.py -j),
# one more for the second chain, whose build ends later: alone at the end,
# CHECK_JOBS workers of the slower sanitized daemon left a core half idle.
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
ASAN_MAKE  = $(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined"

check: test-deps
	$(MAKE) -j$(CHECK_JOBS) --output-sync=line check-normal check-asan

check-normal:
	$(MAKE) all unit-bins
	$(MAKE) unit docs
	/usr/bin/python3 tests/proto/run.py -j $(CHECK_JOBS) --binary $(BUILD)/mxshield

check-asan:
	$(ASAN_MAKE) unit-bins build-asan/mxshield $(SMOKE_BINS)
	$(ASAN_MAKE) unit fuzz-smoke
	/usr/bin/python3 tests/proto/run.py -j $$(($(CHECK_JOBS) + 1)) --binary build-asan/mxshield

# The README's parameter table must match the program.
docs: $(BUILD)/mxshield
	@scripts/param-doc $(BUILD)/mxshield --check && echo "docs: README parameter table up to date"

unit-bins: $(UNIT_BINS)

unit: $(UNIT_BINS)
	@scripts/run-unit $(UNIT_BINS)

unit-asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" unit

# The thread pool's unit test (and DKIM on the pool) under ThreadSanitizer;
# not part of check (OpenSSL itself is not instrumented)
.PHONY: unit-tsan
unit-tsan:
	$(MAKE) BUILD=build-tsan CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
		build-tsan/tests/test_pool
	build-tsan/tests/test_pool

proto: $(BUILD)/mxshield
	/usr/bin/python3 tests/proto/run.py --binary $(BUILD)/mxshield

# The same scenarios against a daemon built with ASan+UBSan.
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
proto-asan:
	$(MAKE) BUILD=build-asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" build-asan/mxshield
	/usr/bin/python3 tests/proto/run.py --binary build-asan/mxshield

# Fuzzing (libFuzzer, clang): the parsers that read what others write.
# `make fuzz` runs each target for FUZZ_SECONDS from the seeds in
# tests/fuzz/corpus/<target>, adding what it finds to build-fuzz/corpus;
# `make fuzz-smoke` (part of check) runs every target over the seeds only.
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_BINS    := $(FUZZ_NAMES:%=build-fuzz/%)
FUZZ_CFLAGS  := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c build-fuzz/libmxshield.a
	clang $(CPPFLAGS) $(PKG_CFLAGS) $(FUZZ_CFLAGS) $(WARN) -fsanitize=fuzzer -o $@ $< \
		build-fuzz/libmxshield.a $(LDLIBS)

ifneq ($(BUILD),build-fuzz)
build-fuzz/libmxshield.a: FORCE | fuzz-deps
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" $@
endif

FORCE:

fuzz-bins: $(FUZZ_BINS)

fuzz-deps:
	@scripts/deps fuzz

# fuzz-smoke: each target once over its seeds, built with gcc's ASan+UBSan
# against build-asan's library and tests/fuzz/smoke_main.c instead of
# libFuzzer (the check needs no third build of everything)
SMOKE_BINS := $(FUZZ_NAMES:%=build-asan/fuzz/%)

build-asan/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/smoke_main.c build-asan/libmxshield.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(ASAN_FLAGS) $(WARN) -o $@ $< tests/fuzz/smoke_main.c \
		build-asan/libmxshield.a -fsanitize=address,undefined $(LDLIBS)

ifneq ($(BUILD),build-asan)
build-asan/libmxshield.a: FORCE
	$(ASAN_MAKE) $@
endif

fuzz-smoke: $(SMOKE_BINS)
	@for n in $(FUZZ_NAMES); do \
		got=$$(build-asan/fuzz/$$n tests/fuzz/corpus/$$n 2>build-asan/fuzz/$$n.log) || \
		{ tail -40 build-asan/fuzz/$$n.log; echo "fuzz-smoke: $$n FAILED"; exit 1; }; \
		echo "fuzz-smoke: $$n: $$got inputs ok"; \
	done

fuzz: fuzz-bins
	@for n in $(FUZZ_NAMES); do \
		mkdir -p build-fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		build-fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=build-fuzz/$$n- \
			build-fuzz/corpus/$$n tests/fuzz/corpus/$$n 2>build-fuzz/$$n.log || \
		{ tail -60 build-fuzz/$$n.log; echo "fuzz: $$n FAILED"; exit 1; }; \
		grep -E '^(#[0-9]+.*DONE|Done)' build-fuzz/$$n.log | tail -1; \
	done

bench: all
	@scripts/deps bench
	bench/run.sh
	/usr/bin/python3 bench/dns.py
	/usr/bin/python3 bench/greylist.py
	/usr/bin/python3 bench/spf.py
	/usr/bin/python3 bench/banlog.py

MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR   ?= /etc/systemd/system

# make install: the program, its man page, the annotated example
# configuration (never over an existing mxshield.conf) and the systemd unit.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/mxshield $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/mxshield $(DESTDIR)$(SBINDIR)/mxshield
	install -m 0644 man/mxshield.8 $(DESTDIR)$(MANDIR)/man8/mxshield.8
	install -m 0644 etc/mxshield.conf.example $(DESTDIR)$(SYSCONFDIR)/mxshield/mxshield.conf.example
	test -e $(DESTDIR)$(SYSCONFDIR)/mxshield/mxshield.conf || \
		install -m 0644 etc/mxshield.conf.example $(DESTDIR)$(SYSCONFDIR)/mxshield/mxshield.conf
	sed 's|/usr/local/sbin/mxshield|$(SBINDIR)/mxshield|' etc/mxshield.service \
		> $(DESTDIR)$(UNITDIR)/mxshield.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/mxshield.service
	@echo "installed; create the user (useradd --system --home-dir /var/lib/mxshield --shell /usr/sbin/nologin mxshield),"
	@echo "edit $(SYSCONFDIR)/mxshield/mxshield.conf, then: systemctl enable --now mxshield"

# make deb: the Debian package (debian/), made by dpkg-buildpackage in a
# copy of the source under build-deb/, so that nothing is written outside
# the checkout; build-deb/obj keeps the objects for the next package build.
DEB_DIR   := build-deb
deb:
	rm -rf $(DEB_DIR)/src
	mkdir -p $(DEB_DIR)/src/mxshield $(DEB_DIR)/obj
	cp -p -R Makefile src etc man debian scripts $(DEB_DIR)/src/mxshield/
	ln -s $(CURDIR)/$(DEB_DIR)/obj $(DEB_DIR)/src/mxshield/build
	cd $(DEB_DIR)/src/mxshield && dpkg-buildpackage -b -nc -us -uc -j$(CHECK_JOBS)
	mv $(DEB_DIR)/src/mxshield*_* $(DEB_DIR)/
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build build-asan build-fuzz build-deb

-include $(LIB_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
