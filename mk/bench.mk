# Benchmark target, included by GNUmakefile:
#	include mk/bench.mk
#
#	make bench   moatftpd against vsftpd and pure-ftpd on loopback
#	             (regress/bench/bench.py; as root; table on stdout, JSON
#	             in $(BUILD)/bench.json).  Sizes and durations come from
#	             BENCH_* variables, e.g. a smoke run:
#	             make bench BENCH_SIZE=4M BENCH_SECS=2 BENCH_SESSIONS=20
BENCH_VARS = BENCH_SIZE BENCH_SECS BENCH_CLIENTS BENCH_SESSIONS \
	     BENCH_DIRFILES BENCH_UPLOADS BENCH_SMALL BENCH_RUNS BENCH_IDLE_RUNS \
	     BENCH_IPERF_SECS BENCH_SERVERS BENCH_FIGURES BENCH_JSON
export $(BENCH_VARS)

bench: all
	MOAT_BUILD=$(abspath $(BUILD)) /usr/bin/python3 regress/bench/bench.py

.PHONY: bench
