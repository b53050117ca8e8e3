# src/lua: the Lua host and the C half of the det module (one l<module>.c each).
libdetbench_la_SOURCES += \
	src/lua/host.c src/lua/host.h \
	src/lua/ldet.c src/lua/ldet.h \
	src/lua/lpin.c \
	src/lua/lbase.c \
	src/lua/ldata.c src/lua/ldata.h
