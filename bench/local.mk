# bench: benchmark programs (`make bench`), never run by `make check`.
EXTRA_DIST += bench/README.md
