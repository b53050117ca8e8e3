/* test_inspector.c: the inspector panel without a terminal: its rendered
 * snapshot (list, title with filters and marks, the viewer's message when
 * no dataset is attached), keys only while focused, the filters, marks and
 * their atomic export. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "core/error.h"
#include "tui/cells.h"
#include "tui/inspector.h"
#include "tui/panel.h"
#include "tests/tap.h"

static struct inspector_item item(long image, const char *cls, const char *kind, int fn, double score, double iou,
	double side, const char *other)
{
	struct inspector_item it;

	memset(&it, 0, sizeof it);
	it.image_id = image + 100;
	it.image = image;
	snprintf(it.cls, sizeof it.cls, "%s", cls);
	snprintf(it.kind, sizeof it.kind, "%s", kind);
	snprintf(it.other, sizeof it.other, "%s", other);
	it.fn = fn;
	it.score = score;
	it.iou = iou;
	it.box[0] = 5;
	it.box[1] = 6;
	it.box[2] = side;
	it.box[3] = side;
	it.area = side * side;
	it.gt_cls = it.det_cls = -1;
	return it;
}

/* the first five rows; the rest of the 8 are blank */
static const char *expected =
	" inspector: Shirt cls  1/3  size all  score >= 0.0  zoomed  0 marked            j/k f s t m x q Esc\n"
	" #     image class        kind        score   IoU confused with\n"
	" 1         4 Shirt        cls          0.91  0.80 T-shirt/top    no image (no dataset attached: r:at\n"
	" 2         8 Shirt        cls (fn)     0.60  0.70 Pullover\n"
	" 3         2 Shirt        miss (fn)    0.00  0.00 -\n";

int main(void)
{
	struct inspector_item items[3] = {
		item(3, "Shirt", "cls", 0, 0.91, 0.8, 20, "T-shirt/top"),
		item(7, "Shirt", "cls", 1, 0.6, 0.7, 40, "Pullover"),
		item(1, "Shirt", "miss", 1, 0, 0, 100, ""),
	};
	char *text;
	char dir[] = "/tmp/test_inspector.XXXXXX", path[256];
	size_t marks[4];

	ok(inspector_open(NULL, NULL, items, 3, "Shirt cls", NULL) == 0, "open without a screen");
	text = cells_to_text(inspector_snapshot(8, 100, 1));
	ok(text && strncmp(text, expected, strlen(expected)) == 0 && strspn(text + strlen(expected), "\n") ==
		strlen(text + strlen(expected)), "rendered snapshot");
	if (text && strncmp(text, expected, strlen(expected)) != 0)
		tap_diag("got:\n%s", text);
	free(text);

	ok(inspector_key_send('j', 0) == PANEL_IGNORED, "unfocused: j is left to the prompt");
	ok(inspector_key_send('m', 0) == PANEL_IGNORED && inspector_marks(marks, 4) == 0, "unfocused: m marks nothing");
	ok((inspector_key_send('j', 1) & PANEL_HANDLED) != 0, "focused: j taken");
	ok(inspector_key_send('m', 1) & PANEL_HANDLED, "m");
	ok(inspector_marks(marks, 4) == 1 && marks[0] == 1, "the second item is marked");
	text = cells_to_text(inspector_snapshot(8, 100, 1));
	ok(text && strstr(text, "2/3") && strstr(text, "1 marked") && strstr(text, "*2 "), "the title and the list show it");
	free(text);
	ok(inspector_key_send('z', 1) == PANEL_IGNORED, "an unknown key is not taken");

	/* filters: size (small < 32^2: items 1 and 2 of side 20 and... 40 is medium) */
	inspector_key_send('s', 1);
	text = cells_to_text(inspector_snapshot(8, 100, 1));
	ok(text && strstr(text, "size small") && strstr(text, "1/1") && !strstr(text, "Pullover"), "s: small only");
	free(text);
	inspector_key_send('s', 1);
	inspector_key_send('s', 1);
	inspector_key_send('s', 1);
	inspector_key_send('t', 1);
	inspector_key_send('t', 1);
	inspector_key_send('t', 1);
	text = cells_to_text(inspector_snapshot(8, 100, 1));
	ok(text && strstr(text, "score >= 0.7") && strstr(text, "/3 ") && strstr(text, "T-shirt/top") && strstr(text, "miss"),
		"t: score >= .7 keeps the .91 detection and the objects not found");
	free(text);
	inspector_key_send('f', 1);
	text = cells_to_text(inspector_snapshot(8, 100, 0));
	ok(text && strstr(text, "full image") && strstr(text, "Tab: focus"), "f: full image; unfocused hint");
	free(text);

	/* export */
	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(path, sizeof path, "%s/marks.json", dir);
	ok(inspector_export(path) == 0, "export");
	{
		FILE *f = fopen(path, "r");
		char buf[1024];
		size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

		buf[n] = 0;
		if (f)
			fclose(f);
		ok(strstr(buf, "{\"image\": 107, \"box\": [5, 6, 40, 40], \"class\": \"Shirt\", \"reason\": \"marked\", "
			"\"kind\": \"cls\", \"score\": 0.6, \"confused_with\": \"Pullover\"}") != NULL, "the marked object: %s", buf);
	}
	unlink(path);
	snprintf(path, sizeof path, "%s/no/such/marks.json", dir);
	ok(inspector_export(path) == DET_EIO && strstr(det_error_message(), "no/such"), "unwritable: %s",
		det_error_message());
	rmdir(dir);
	ok(inspector_key_send('q', 1) & PANEL_HANDLED, "q");
	return tap_done();
}
