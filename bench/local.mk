# bench: benchmark programs (`make bench`), never run by `make check`.
EXTRA_DIST += bench/README.md

# conv2d kernels vs. sgemm and PyTorch (bench/conv_torch.py), one table
EXTRA_PROGRAMS += bench/conv_bench
BENCH_BINS += bench/conv_bench
bench_conv_bench_SOURCES = bench/conv_bench.c src/core/threads_preinit.c
bench_conv_bench_LDADD = libdetbench.la $(DET_LIBS)
bench_conv_bench_CPPFLAGS = $(AM_CPPFLAGS) -DBENCH_SRCDIR='"$(abs_top_srcdir)/bench"'
EXTRA_DIST += bench/conv_torch.py

# data: the threaded loader (1 and 2 workers vs inline) and JPEG decoding
EXTRA_PROGRAMS += bench/loader_bench bench/decode_bench
BENCH_BINS += bench/loader_bench bench/decode_bench
bench_loader_bench_SOURCES = bench/loader_bench.c
bench_loader_bench_LDADD = libdetbench.la $(DET_LIBS)
bench_decode_bench_SOURCES = bench/decode_bench.c
bench_decode_bench_LDADD = libdetbench.la $(DET_LIBS)
