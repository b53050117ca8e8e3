# src/tui: the workbench screen and prompt.
libdetbench_la_SOURCES += \
	src/tui/tui.c src/tui/tui.h
