# Installation and lint targets, included by GNUmakefile:
#	include mk/install.mk
#
#	make install   [DESTDIR=...] [PREFIX=/usr/local]
#	make uninstall [DESTDIR=...] [PREFIX=/usr/local]   (keeps config and data)
#	make lint      shellcheck on the shell scripts, groff -ww on the man pages
#
# Programs and man pages go under $(PREFIX); the configuration, init script,
# systemd unit and logrotate snippet go to their fixed system places under
# $(DESTDIR).  The installed init script and unit name $(PREFIX)/sbin/moatftpd.

# Keep `make` meaning `make all` wherever this file is included.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

BUILD    ?= build
PREFIX   ?= /usr/local
INSTALL  ?= install
SHELLCHECK ?= shellcheck
GROFF    ?= groff

SBINDIR   = $(PREFIX)/sbin
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man
CONFDIR   = /etc/moatftpd
INITDIR   = /etc/init.d
UNITDIR   = /lib/systemd/system
LOGROTDIR = /etc/logrotate.d
JAILDIR   = /var/empty/moatftpd
LOGDIR    = /var/log/moatftpd

MAN1 = conf/moatftp.1
MAN5 = conf/moatftpd.conf.5
MAN8 = conf/moatftpd.8 conf/moatadm.8
MANPAGES = $(MAN1) $(MAN5) $(MAN8)

install: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(CONFDIR) $(DESTDIR)$(INITDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(LOGROTDIR) $(DESTDIR)$(JAILDIR) $(DESTDIR)$(LOGDIR)
	$(INSTALL) -m 0755 $(BUILD)/moatftpd $(BUILD)/moatadm $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0755 $(BUILD)/moatftp $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	@if [ -e $(DESTDIR)$(CONFDIR)/moatftpd.conf ]; then \
		echo "keeping $(DESTDIR)$(CONFDIR)/moatftpd.conf"; \
	else \
		echo "$(INSTALL) -m 0644 conf/moatftpd.conf $(DESTDIR)$(CONFDIR)/moatftpd.conf"; \
		$(INSTALL) -m 0644 conf/moatftpd.conf $(DESTDIR)$(CONFDIR)/moatftpd.conf; \
	fi
	$(INSTALL) -m 0755 conf/moatftpd.init $(DESTDIR)$(INITDIR)/moatftpd
	$(INSTALL) -m 0644 conf/moatftpd.service $(DESTDIR)$(UNITDIR)/moatftpd.service
	sed -i 's|/usr/local/sbin/moatftpd|$(SBINDIR)/moatftpd|g' \
	    $(DESTDIR)$(INITDIR)/moatftpd $(DESTDIR)$(UNITDIR)/moatftpd.service
	$(INSTALL) -m 0644 conf/moatftpd.logrotate $(DESTDIR)$(LOGROTDIR)/moatftpd

# Leaves /etc/moatftpd (configuration, users, certificate), the homes and
# the transfer logs (the log directory goes only if it is empty).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/moatftpd $(DESTDIR)$(SBINDIR)/moatadm \
	    $(DESTDIR)$(BINDIR)/moatftp \
	    $(DESTDIR)$(MANDIR)/man1/moatftp.1 \
	    $(DESTDIR)$(MANDIR)/man5/moatftpd.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/moatftpd.8 $(DESTDIR)$(MANDIR)/man8/moatadm.8 \
	    $(DESTDIR)$(INITDIR)/moatftpd \
	    $(DESTDIR)$(UNITDIR)/moatftpd.service \
	    $(DESTDIR)$(LOGROTDIR)/moatftpd
	@rmdir $(DESTDIR)$(JAILDIR) 2>/dev/null || true
	@rmdir $(DESTDIR)$(LOGDIR) 2>/dev/null || true

LINT_SH = conf/moatftpd.init conf/demo.sh $(wildcard regress/*.sh regress/*/*.sh)

lint:
	@fail=0; \
	for f in $(LINT_SH); do \
		sh -n $$f || fail=1; \
		$(SHELLCHECK) $$f || fail=1; \
	done; \
	for m in $(MANPAGES); do \
		out=$$($(GROFF) -ww -mandoc -Tutf8 -z $$m 2>&1); \
		if [ -n "$$out" ]; then echo "$$m:"; echo "$$out"; fail=1; fi; \
	done; \
	if [ $$fail -eq 0 ]; then echo "lint: ok"; else echo "lint: FAILED"; exit 1; fi

.PHONY: install uninstall lint
