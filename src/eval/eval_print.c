/* eval_print.c: the evaluator's reports (pycocotools' 12-line summary byte
 * for byte, the per-class table, TIDE's tables, JSON) and `detbench eval`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "eval/coco_eval.h"

void eval_summary_print(const struct eval_result *r, FILE *f)
{
	static const struct {
		int ap;
		const char *iou, *area;
		int maxdet;
	} rows[12] = {
		{ 1, "0.50:0.95", "all", 100 }, { 1, "0.50", "all", 100 }, { 1, "0.75", "all", 100 },
		{ 1, "0.50:0.95", "small", 100 }, { 1, "0.50:0.95", "medium", 100 }, { 1, "0.50:0.95", "large", 100 },
		{ 0, "0.50:0.95", "all", 1 }, { 0, "0.50:0.95", "all", 10 }, { 0, "0.50:0.95", "all", 100 },
		{ 0, "0.50:0.95", "small", 100 }, { 0, "0.50:0.95", "medium", 100 }, { 0, "0.50:0.95", "large", 100 },
	};

	for (int i = 0; i < 12; i++)
		fprintf(f, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n",
			rows[i].ap ? "Average Precision" : "Average Recall", rows[i].ap ? "(AP)" : "(AR)",
			rows[i].iou, rows[i].area, rows[i].maxdet, r->stats[i]);
}

static int name_width(const struct eval_gt *gt, int min)
{
	int w = min;

	for (int k = 0; k < gt->ncats; k++)
		if ((int)strlen(gt->cat_names[k]) > w)
			w = (int)strlen(gt->cat_names[k]);
	return w;
}

static void put_num(FILE *f, double v, int width, int prec)
{
	if (isnan(v))
		fprintf(f, " %*s", width, "-");
	else
		fprintf(f, " %*.*f", width, prec, v);
}

void eval_per_class_print(const struct eval_result *r, const struct eval_gt *gt, FILE *f)
{
	int w = name_width(gt, 5);

	fprintf(f, "%-*s %6s %6s %6s %7s %8s %6s %6s\n", w, "class", "AP", "AP50", "AP75", "GT", "dets", "F1", "@conf");
	for (int k = 0; k < r->ncats; k++) {
		const struct eval_class *c = &r->cls[k];

		fprintf(f, "%-*s", w, gt->cat_names[k]);
		put_num(f, c->ap, 6, 3);
		put_num(f, c->ap50, 6, 3);
		put_num(f, c->ap75, 6, 3);
		fprintf(f, " %7zu %8zu", c->ngt, c->ndet);
		put_num(f, c->f1, 6, 3);
		put_num(f, c->f1_threshold, 6, 3);
		fputc('\n', f);
	}
}

void eval_tide_print(const struct eval_result *r, const struct eval_gt *gt, FILE *f)
{
	int w = name_width(gt, 5);

	fprintf(f, "TIDE errors (Bolya et al. 2020), bbox AP @ 50: %.2f\n", r->tide.ap);
	fprintf(f, "%6s", "Type");
	for (int e = 0; e < EVAL_NERR; e++)
		fprintf(f, " %8s", eval_error_names[e]);
	fprintf(f, " %9s %9s\n%6s", "FalsePos", "FalseNeg", "dAP");
	for (int e = 0; e < EVAL_NERR; e++)
		fprintf(f, " %8.2f", r->tide.dap[e]);
	fprintf(f, " %9.2f %9.2f\n%6s", r->tide.dap_fp, r->tide.dap_fn, "count");
	for (int e = 0; e < EVAL_NERR; e++)
		fprintf(f, " %8zu", r->tide.count[e]);
	fprintf(f, "\n\nper class (AP50 and dAP, AP points)\n%-*s %7s", w, "class", "AP50");
	for (int e = 0; e < EVAL_NERR; e++)
		fprintf(f, " %7s", eval_error_names[e]);
	fputc('\n', f);
	for (int k = 0; k < r->ncats; k++) {
		fprintf(f, "%-*s", w, gt->cat_names[k]);
		put_num(f, r->cls[k].tide_ap, 7, 2);
		for (int e = 0; e < EVAL_NERR; e++)
			put_num(f, r->cls[k].tide_dap[e], 7, 2);
		fputc('\n', f);
	}
}

void eval_confusion_print(const struct eval_gt *gt, const size_t *m, double conf, double iou, FILE *f)
{
	int K = gt->ncats, w = name_width(gt, 10), cw = 6;

	for (int k = 0; k < K; k++)
		if ((int)strlen(gt->cat_names[k]) > cw)
			cw = (int)strlen(gt->cat_names[k]);
	if (cw > 12)
		cw = 12;
	fprintf(f, "confusion (rows: GT class, columns: predicted; IoU >= %.2f, score >= %.2f)\n%-*s", iou, conf, w, "");
	for (int k = 0; k <= K; k++)
		fprintf(f, " %*.*s", cw, cw, k < K ? gt->cat_names[k] : "bkg");
	fputc('\n', f);
	for (int a = 0; a <= K; a++) {
		fprintf(f, "%-*s", w, a < K ? gt->cat_names[a] : "background");
		for (int b = 0; b <= K; b++) {
			if (a == K && b == K)
				fprintf(f, " %*s", cw, "-");
			else
				fprintf(f, " %*zu", cw, m[(size_t)a * (size_t)(K + 1) + (size_t)b]);
		}
		fputc('\n', f);
	}
}

static cJSON *num_or_null(double v)
{
	return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

int eval_json_print(const struct eval_result *r, const struct eval_gt *gt, FILE *f)
{
	cJSON *root = cJSON_CreateObject(), *stats = cJSON_AddArrayToObject(root, "stats");
	cJSON *named = cJSON_AddObjectToObject(root, "stats_named");
	cJSON *pc = cJSON_AddObjectToObject(root, "per_class"), *tide = cJSON_AddObjectToObject(root, "tide");
	cJSON *dap = cJSON_AddObjectToObject(tide, "dAP"), *cnt = cJSON_AddObjectToObject(tide, "count");
	char *s;

	for (int i = 0; i < 12; i++) {
		cJSON_AddItemToArray(stats, cJSON_CreateNumber(r->stats[i]));
		cJSON_AddNumberToObject(named, eval_stat_names[i], r->stats[i]);
	}
	for (int k = 0; k < r->ncats; k++) {
		const struct eval_class *c = &r->cls[k];
		cJSON *o = cJSON_CreateObject(), *td = cJSON_CreateObject();
		char key[32];

		snprintf(key, sizeof key, "%lld", (long long)gt->cat_ids[k]);
		cJSON_AddStringToObject(o, "name", gt->cat_names[k]);
		cJSON_AddItemToObject(o, "AP", num_or_null(c->ap));
		cJSON_AddItemToObject(o, "AP50", num_or_null(c->ap50));
		cJSON_AddItemToObject(o, "AP75", num_or_null(c->ap75));
		cJSON_AddNumberToObject(o, "num_gt", (double)c->ngt);
		cJSON_AddNumberToObject(o, "num_dets", (double)c->ndet);
		cJSON_AddItemToObject(o, "F1", num_or_null(c->f1));
		cJSON_AddItemToObject(o, "F1_threshold", num_or_null(c->f1_threshold));
		cJSON_AddItemToObject(o, "tide_AP50", num_or_null(c->tide_ap));
		for (int e = 0; e < EVAL_NERR; e++)
			cJSON_AddNumberToObject(td, eval_error_names[e], c->tide_dap[e]);
		cJSON_AddItemToObject(o, "tide_dAP", td);
		cJSON_AddItemToObject(pc, key, o);
	}
	cJSON_AddNumberToObject(tide, "AP50", r->tide.ap);
	for (int e = 0; e < EVAL_NERR; e++) {
		cJSON_AddNumberToObject(dap, eval_error_names[e], r->tide.dap[e]);
		cJSON_AddNumberToObject(cnt, eval_error_names[e], (double)r->tide.count[e]);
	}
	cJSON_AddNumberToObject(dap, "FalsePos", r->tide.dap_fp);
	cJSON_AddNumberToObject(dap, "FalseNeg", r->tide.dap_fn);
	cJSON_AddNumberToObject(root, "num_images", (double)r->nimages);
	cJSON_AddNumberToObject(root, "num_dets", (double)r->ndets);
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (s == NULL)
		return det_error_set(DET_ENOMEM, "out of memory printing JSON");
	fprintf(f, "%s\n", s);
	cJSON_free(s);
	return 0;
}

static void cli_usage(FILE *f)
{
	fputs("Usage: detbench eval GT.json RESULTS.json [--per-class] [--tide] [--confusion[=CONF]] [--json]\n"
	      "COCO bbox evaluation with pycocotools' numbers; --per-class adds a table\n"
	      "per category, --tide TIDE's error breakdown, --confusion the confusion\n"
	      "matrix at IoU 0.5 for detections scoring >= CONF (default 0.25), --json\n"
	      "everything as JSON.\n", f);
}

int eval_cli_main(int argc, char **argv)
{
	const char *paths[2] = { NULL, NULL };
	int per_class = 0, tide = 0, json = 0, np = 0, status = 1, confusion = 0;
	double conf = 0.25;
	size_t skipped = 0;
	struct eval_gt *gt = NULL;
	struct eval_dets *dets = NULL;
	struct eval_result *r = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--per-class") == 0)
			per_class = 1;
		else if (strcmp(argv[i], "--tide") == 0)
			tide = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strncmp(argv[i], "--confusion", 11) == 0 && (argv[i][11] == '\0' || argv[i][11] == '=')) {
			char *end = NULL;

			confusion = 1;
			if (argv[i][11] == '=' && ((conf = strtod(argv[i] + 12, &end)), *end != '\0' || end == argv[i] + 12)) {
				fprintf(stderr, "detbench eval: --confusion=CONF wants a number, got %s\n", argv[i] + 12);
				return 2;
			}
		}
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			cli_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "detbench eval: unknown option %s\n", argv[i]);
			cli_usage(stderr);
			return 2;
		} else if (np < 2)
			paths[np++] = argv[i];
		else {
			fprintf(stderr, "detbench eval: unexpected argument %s\n", argv[i]);
			cli_usage(stderr);
			return 2;
		}
	}
	if (np != 2) {
		fputs("detbench eval: expected a ground-truth file and a results file\n", stderr);
		cli_usage(stderr);
		return 2;
	}
	if (eval_gt_read(paths[0], &gt, &skipped) < 0 || eval_dets_read(paths[1], gt, &dets) < 0 ||
	    eval_coco_run(gt, dets, &r) < 0) {
		fprintf(stderr, "detbench eval: %s\n", det_error_message());
		goto out;
	}
	if (skipped)
		fprintf(stderr, "detbench eval: %s: %zu annotations not evaluated (unknown image or category id, "
			"or no [x, y, w, h] bbox), as pycocotools would not see them\n", paths[0], skipped);
	if (json) {
		if (eval_json_print(r, gt, stdout) < 0)
			goto out;
	} else {
		eval_summary_print(r, stdout);
		if (per_class) {
			putchar('\n');
			eval_per_class_print(r, gt, stdout);
		}
		if (tide) {
			putchar('\n');
			eval_tide_print(r, gt, stdout);
		}
		if (confusion) {
			size_t *m = NULL;

			if (eval_confusion(gt, dets, conf, 0.5, &m) < 0) {
				fprintf(stderr, "detbench eval: %s\n", det_error_message());
				goto out;
			}
			putchar('\n');
			eval_confusion_print(gt, m, conf, 0.5, stdout);
			free(m);
		}
	}
	status = 0;
out:
	eval_result_free(r);
	eval_dets_free(dets);
	eval_gt_free(gt);
	return status;
}
