/* fuzz_coco.c: libFuzzer target over the COCO reader's buffer entry point
 * and the evaluator's readers (GT and results) on the same bytes.
 * Build by hand: clang -fsanitize=fuzzer,address -Isrc -I. \
 *   tests/fuzz/fuzz_coco.c <the library sources> -lcjson -lm
 * Every input must return (0 or an error code) without crashing, leaking
 * or reading out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/coco.h"
#include "eval/coco_eval.h"

static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the readers take a NUL-terminated buffer, as json_file_read gives */
	char *buf = malloc(size + 1);
	struct coco_read_options opt = { .warn = quiet, .quiet = 1 };
	struct dataset *ds = NULL;
	struct eval_gt *gt = NULL;
	struct eval_dets *dets = NULL;
	struct eval_result *r = NULL;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (coco_read_buffer(buf, size, "fuzz.json", &opt, &ds) == 0)
		dataset_free(ds);
	if (eval_gt_read_buffer(buf, size, "fuzz.json", &gt, NULL) == 0) {
		/* the same bytes as a results list against themselves as GT */
		static const char res[] = "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 5, 5], \"score\": 0.5}]";

		if (eval_dets_read_buffer(res, sizeof res - 1, "res.json", gt, &dets) == 0 &&
		    eval_coco_run(gt, dets, &r) == 0)
			eval_result_free(r);
		eval_dets_free(dets);
		eval_gt_free(gt);
	}
	free(buf);
	return 0;
}
