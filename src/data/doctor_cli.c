/* doctor_cli.c: `detbench doctor PATH` and the format detection behind it
 * (and behind det.data.open): a COCO .json file, a VOC root (Annotations/),
 * a YOLO folder (images/ + labels/) or a YOLO data YAML. */
#include "data/doctor.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"
#include "data/voc.h"
#include "data/yolo.h"

#if defined(__has_include)
#if __has_include("data/coco.h")
#include "data/coco.h"
#define HAVE_COCO_READER 1
#endif
#endif

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static char *join(const char *a, const char *b)
{
	char *p = malloc(strlen(a) + strlen(b) + 2);

	if (p)
		sprintf(p, "%s/%s", a, b);
	return p;
}

/* Does dir hold at least one image file directly? */
static int has_images(const char *dir)
{
	static const char *const exts[] = { ".jpg", ".jpeg", ".png", ".bmp" };
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (e = readdir(d)) != NULL)
		for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++)
			found |= ends_with(e->d_name, exts[k]);
	closedir(d);
	return found;
}

/* A YOLO folder: data.yaml if it has one; else images/[split]/ with
 * labels/[split]/ and a names file if one is there. */
static int open_yolo_dir(const char *path, const struct doctor_open_options *o,
	struct dataset **out, const char **format)
{
	static const char *const name_files[] = { "classes.txt", "names.txt", "obj.names", "classes.names" };
	static const char *const yamls[] = { "data.yaml", "data.yml", "dataset.yaml" };
	struct yolo_options yo = { .warn = o->warn, .warn_ctx = o->warn_ctx };
	char *images = NULL, *labels = NULL, *names = NULL, *yaml = NULL;
	int rc;

	for (size_t k = 0; k < sizeof yamls / sizeof yamls[0] && yaml == NULL; k++) {
		yaml = join(path, yamls[k]);
		if (yaml && !is_file(yaml)) {
			free(yaml);
			yaml = NULL;
		}
	}
	*format = "YOLO";
	if (yaml) {
		yo.data = yaml;
		yo.split = o->split;
		rc = yolo_read(&yo, out);
		free(yaml);
		return rc;
	}
	images = join(path, "images");
	labels = join(path, "labels");
	if (images == NULL || labels == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory");
		goto done;
	}
	if (o->split || !has_images(images)) {
		const char *split = o->split ? o->split : "train";
		char *si = join(images, split), *sl = join(labels, split);

		if (si == NULL || sl == NULL) {
			free(si), free(sl);
			rc = det_error_set(DET_ENOMEM, "out of memory");
			goto done;
		}
		if (!is_dir(si)) {
			rc = det_error_set(DET_EINVAL, "%s: no images in %s/ and no %s/ folder under it "
				"(name a split with --split)", path, images, split);
			free(si), free(sl);
			goto done;
		}
		free(images), free(labels);
		images = si, labels = sl;
	}
	for (size_t k = 0; k < sizeof name_files / sizeof name_files[0] && names == NULL; k++) {
		names = join(path, name_files[k]);
		if (names && !is_file(names)) {
			free(names);
			names = NULL;
		}
	}
	yo.images = images;
	yo.labels = is_dir(labels) ? labels : NULL;
	yo.names = names;
	rc = yolo_read(&yo, out);
done:
	free(images), free(labels), free(names);
	return rc;
}

int doctor_open(const char *path, const struct doctor_open_options *opt, struct dataset **out,
	const char **format)
{
	static const struct doctor_open_options defaults;
	const char *fmt_unused;
	char *ann;
	int voc;

	*out = NULL;
	if (opt == NULL)
		opt = &defaults;
	if (format == NULL)
		format = &fmt_unused;
	*format = "?";
	if (!is_file(path) && !is_dir(path))
		return det_error_set(DET_EIO, "%s: can't open (%s)", path, strerror(errno ? errno : ENOENT));
	if (is_file(path) && ends_with(path, ".json")) {
		*format = "COCO";
#ifdef HAVE_COCO_READER
		{
			struct coco_read_options co = {
				.image_root = opt->images, .check_files = 0,
				.warn = opt->warn, .warn_ctx = opt->warn_ctx, .quiet = 1,
			};

			return coco_read_opts(path, &co, out);
		}
#else
		return det_error_set(DET_EINVAL, "%s: a COCO file, but this build has no COCO reader yet", path);
#endif
	}
	if (is_file(path) && (ends_with(path, ".yaml") || ends_with(path, ".yml"))) {
		struct yolo_options yo = { .data = path, .split = opt->split, .warn = opt->warn,
			.warn_ctx = opt->warn_ctx };

		*format = "YOLO";
		return yolo_read(&yo, out);
	}
	if (is_dir(path)) {
		if ((ann = join(path, "Annotations")) == NULL)
			return det_error_set(DET_ENOMEM, "out of memory");
		voc = is_dir(ann);
		free(ann);
		if (voc) {
			struct voc_options vo = { .split = opt->split, .keep_missing = 1, .warn = opt->warn,
				.warn_ctx = opt->warn_ctx };

			*format = "VOC";
			return voc_read(path, &vo, out);
		}
		if ((ann = join(path, "images")) == NULL)
			return det_error_set(DET_ENOMEM, "out of memory");
		voc = is_dir(ann);
		free(ann);
		if (voc)
			return open_yolo_dir(path, opt, out, format);
	}
	return det_error_set(DET_EINVAL, "%s: can't tell the format: expected a COCO .json file, a VOC "
		"root (with Annotations/), a YOLO folder (with images/ and labels/) or a YOLO data YAML", path);
}

/* Reader problems: the first few kept as examples, all counted. */
struct problem_log {
	char first[5][512];
	size_t n;
};

static void log_problem(void *ctx, const char *msg)
{
	struct problem_log *log = ctx;

	if (log->n < 5)
		snprintf(log->first[log->n], sizeof log->first[0], "%s", msg);
	log->n++;
}

static void cli_usage(FILE *f)
{
	fputs("Usage: detbench doctor [--json] [--split NAME] [--images DIR] [--iou X] [--tiny PX] PATH\n"
	      "\n"
	      "Reports what is in a dataset and what looks wrong with it. PATH is a COCO\n"
	      ".json file, a VOC root (with Annotations/), a YOLO folder (images/ and\n"
	      "labels/) or a YOLO data YAML.\n"
	      "\n"
	      "  --json          print the report as JSON\n"
	      "  --split NAME    VOC: ImageSets/Main/NAME.txt (default: every annotation);\n"
	      "                  YOLO: the YAML key or images/NAME (default: train)\n"
	      "  --images DIR    COCO: the image folder (default: beside the JSON)\n"
	      "  --iou X         near-duplicate IoU threshold (default 0.95)\n"
	      "  --tiny PX       tiny-box side limit in pixels (default 4)\n"
	      "  --no-files      do not look for the image files\n"
	      "\n"
	      "Exit status: 0 when the report was made (findings or not), 1 when the\n"
	      "dataset can't be read, 2 on a usage error.\n", f);
}

int doctor_cli_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "split", required_argument, NULL, 's' },
		{ "images", required_argument, NULL, 'I' },
		{ "iou", required_argument, NULL, 'u' },
		{ "tiny", required_argument, NULL, 't' },
		{ "no-files", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct doctor_options dopt = { .dup_iou = 0.95f, .tiny_px = 4, .border_px = 1, .check_files = 1 };
	struct problem_log log = { .n = 0 };
	struct doctor_open_options oo = { .warn = log_problem, .warn_ctx = &log };
	struct doctor_report *r;
	struct dataset *ds;
	const char *format;
	int json = 0, c, rc;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "js:I:u:t:nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 's':
			oo.split = optarg;
			break;
		case 'I':
			oo.images = optarg;
			break;
		case 'u':
			dopt.dup_iou = strtof(optarg, &end);
			if (*end || !(dopt.dup_iou > 0 && dopt.dup_iou < 1)) {
				fprintf(stderr, "detbench doctor: --iou expects a number between 0 and 1, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			dopt.tiny_px = strtof(optarg, &end);
			if (*end || !(dopt.tiny_px > 0)) {
				fprintf(stderr, "detbench doctor: --tiny expects a positive number, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			dopt.check_files = 0;
			break;
		case 'h':
			cli_usage(stdout);
			return 0;
		default:
			cli_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(optind < argc ? "detbench doctor: expected one PATH\n" : "detbench doctor: expected a PATH\n", stderr);
		cli_usage(stderr);
		return 2;
	}
	rc = doctor_open(argv[optind], &oo, &ds, &format);
	if (rc < 0) {
		fprintf(stderr, "detbench doctor: %s\n", det_error_message());
		return 1;
	}
	if ((rc = doctor_run(ds, &dopt, &r)) < 0) {
		fprintf(stderr, "detbench doctor: %s\n", det_error_message());
		dataset_free(ds);
		return 1;
	}
	r->format = format;
	r->problems = (const char (*)[512])log.first;
	r->nproblems_kept = log.n < 5 ? log.n : 5;
	r->nproblems = log.n;
	rc = json ? doctor_write_json(r, stdout) : doctor_write_text(r, stdout);
	doctor_report_free(r);
	dataset_free(ds);
	if (rc < 0) {
		fprintf(stderr, "detbench doctor: %s\n", det_error_message());
		return 1;
	}
	return 0;
}
