/* style.c: colour pairs for the roles in style.h, or monochrome attributes
 * under NO_COLOR and on terminals without colour. */
#include "tui/style.h"

#include <stdlib.h>

static attr_t attrs[ROLE_COUNT];
static int use_color;

void tui_style_init(void)
{
	const char *no_color = getenv("NO_COLOR");
	int bg = COLOR_BLACK;

	use_color = has_colors() && !(no_color && *no_color);
	if (use_color) {
		start_color();
		if (use_default_colors() == OK)
			bg = -1;
		init_pair(1, COLOR_RED, bg);
		init_pair(2, COLOR_YELLOW, bg);
		init_pair(3, COLOR_CYAN, bg);
		init_pair(4, COLOR_WHITE, COLOR_BLUE);
		init_pair(5, COLOR_YELLOW, COLOR_BLUE);
		attrs[ROLE_TEXT] = A_NORMAL;
		attrs[ROLE_ERROR] = COLOR_PAIR(1);
		attrs[ROLE_STDERR] = COLOR_PAIR(2);
		attrs[ROLE_PROMPT] = COLOR_PAIR(3) | A_BOLD;
		attrs[ROLE_NOTE] = COLOR_PAIR(3);
		attrs[ROLE_STATUS] = COLOR_PAIR(4);
		attrs[ROLE_STATUS_KEY] = COLOR_PAIR(5) | A_BOLD;
		attrs[ROLE_MARK] = A_REVERSE;
	} else {
		attrs[ROLE_TEXT] = A_NORMAL;
		attrs[ROLE_ERROR] = A_BOLD;
		attrs[ROLE_STDERR] = A_NORMAL;
		attrs[ROLE_PROMPT] = A_BOLD;
		attrs[ROLE_NOTE] = A_DIM;
		attrs[ROLE_STATUS] = A_REVERSE;
		attrs[ROLE_STATUS_KEY] = A_REVERSE | A_BOLD;
		attrs[ROLE_MARK] = A_REVERSE;
	}
}

attr_t tui_style_attr(enum tui_role role)
{
	return attrs[role];
}

int tui_style_color(void)
{
	return use_color;
}
