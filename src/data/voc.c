/* voc.c: the Pascal VOC reader. Expat streams each annotation document
 * through a small state machine over the element path (annotation/size/width,
 * annotation/object/bndbox/xmin, ...); objects are buffered until the end of
 * the document, when the image size is known, then validated, clipped and
 * added. Every problem names the XML file and the line Expat reports. */
#include "data/voc.h"

#include <dirent.h>
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>

#include "core/error.h"
#include "core/file.h"

const char *const voc_class_names[20] = {
	"aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
	"diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
	"train", "tvmonitor",
};

enum tag {
	T_OTHER, T_ANNOTATION, T_FILENAME, T_SIZE, T_WIDTH, T_HEIGHT, T_OBJECT, T_NAME,
	T_DIFFICULT, T_TRUNCATED, T_BNDBOX, T_XMIN, T_YMIN, T_XMAX, T_YMAX,
};

static const char *const tag_names[] = {
	"", "annotation", "filename", "size", "width", "height", "object", "name",
	"difficult", "truncated", "bndbox", "xmin", "ymin", "xmax", "ymax",
};

#define MAX_DEPTH 64
#define TEXT_MAX 256
#define MSG_MAX 400

struct voc_object {
	char name[TEXT_MAX];
	int has_name;
	double coord[4];        /* xmin, ymin, xmax, ymax as written */
	int has_coord[4];
	unsigned long coord_line[4];
	int has_bndbox, difficult, truncated;
	unsigned long line, name_line, bndbox_line;
	char problem[MSG_MAX];  /* the first thing wrong with it, "" if none */
};

struct voc_state {
	XML_Parser parser;
	struct dataset *ds;
	const struct voc_options *opt;
	const char *name;
	int depth;
	enum tag stack[MAX_DEPTH];
	char text[TEXT_MAX];
	size_t text_len;
	int collecting;
	char filename[TEXT_MAX];
	int width, height;
	char size_problem[MSG_MAX];
	struct voc_object *objs;
	size_t nobjs, objs_cap;
	int root_seen, nomem;
	char root_problem[MSG_MAX];
};

/* Every problem goes through dataset_problem with this reader's warn hook. */
#define problem(ds, opt, ...) \
	dataset_problem((ds), (opt) ? (opt)->warn : NULL, (opt) ? (opt)->warn_ctx : NULL, __VA_ARGS__)

static enum tag tag_of(const char *name)
{
	for (size_t t = 1; t < sizeof tag_names / sizeof tag_names[0]; t++)
		if (strcmp(name, tag_names[t]) == 0)
			return (enum tag)t;
	return T_OTHER;
}

/* The parent of the element being opened or closed is stack[depth - 2]. */
static enum tag parent(const struct voc_state *s, int up)
{
	int i = s->depth - 1 - up;

	return i >= 0 && i < MAX_DEPTH ? s->stack[i] : T_OTHER;
}

static struct voc_object *current_object(struct voc_state *s)
{
	return s->nobjs ? &s->objs[s->nobjs - 1] : NULL;
}

/* A leaf whose text we keep: annotation/{filename}, annotation/size/{width,height},
 * annotation/object/{name,difficult,truncated}, annotation/object/bndbox/{x,y}{min,max}. */
static int wanted_leaf(const struct voc_state *s, enum tag t)
{
	switch (t) {
	case T_FILENAME:
		return s->depth == 2 && parent(s, 1) == T_ANNOTATION;
	case T_WIDTH:
	case T_HEIGHT:
		return s->depth == 3 && parent(s, 1) == T_SIZE;
	case T_NAME:
	case T_DIFFICULT:
	case T_TRUNCATED:
		return s->depth == 3 && parent(s, 1) == T_OBJECT;
	case T_XMIN:
	case T_YMIN:
	case T_XMAX:
	case T_YMAX:
		return s->depth == 4 && parent(s, 1) == T_BNDBOX && parent(s, 2) == T_OBJECT;
	default:
		return 0;
	}
}

static void XMLCALL on_start(void *ud, const XML_Char *el, const XML_Char **attr)
{
	struct voc_state *s = ud;
	enum tag t = tag_of(el);
	unsigned long line = XML_GetCurrentLineNumber(s->parser);

	(void)attr;
	s->depth++;
	if (s->depth <= MAX_DEPTH)
		s->stack[s->depth - 1] = t;
	if (s->depth == 1) {
		s->root_seen = 1;
		if (t != T_ANNOTATION)
			snprintf(s->root_problem, sizeof s->root_problem,
				"%s:%lu: expected <annotation> as the root element, got <%.64s>",
				s->name, line, el);
		return;
	}
	if (s->depth == 2 && t == T_OBJECT && parent(s, 1) == T_ANNOTATION) {
		if (s->nobjs == s->objs_cap) {
			size_t cap = s->objs_cap ? 2 * s->objs_cap : 8;
			struct voc_object *p = realloc(s->objs, cap * sizeof *p);

			if (p == NULL) {
				s->nomem = 1;
				XML_StopParser(s->parser, XML_FALSE);
				return;
			}
			s->objs = p;
			s->objs_cap = cap;
		}
		memset(&s->objs[s->nobjs], 0, sizeof s->objs[0]);
		s->objs[s->nobjs++].line = line;
		return;
	}
	if (s->depth == 3 && t == T_BNDBOX && parent(s, 1) == T_OBJECT) {
		struct voc_object *o = current_object(s);

		if (o) {
			o->has_bndbox = 1;
			o->bndbox_line = line;
		}
		return;
	}
	if (wanted_leaf(s, t)) {
		s->collecting = 1;
		s->text_len = 0;
		if (t == T_NAME && current_object(s))
			current_object(s)->name_line = line;
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *txt, int len)
{
	struct voc_state *s = ud;
	size_t room;

	if (!s->collecting || len <= 0)
		return;
	room = sizeof s->text - 1 - s->text_len;
	if ((size_t)len > room)
		len = (int)room;
	memcpy(s->text + s->text_len, txt, (size_t)len);
	s->text_len += (size_t)len;
}

/* The collected text without surrounding white space, NUL-terminated. */
static char *trimmed_text(struct voc_state *s)
{
	char *p = s->text, *e;

	s->text[s->text_len] = '\0';
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return p;
}

/* Parses a finite number with nothing after it; 0 on success. */
static int parse_number(const char *text, double *out)
{
	char *end;
	double v;

	if (*text == '\0')
		return -1;
	errno = 0;
	v = strtod(text, &end);
	if (*end != '\0' || errno == ERANGE || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

static void object_problem(struct voc_object *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void object_problem(struct voc_object *o, const char *fmt, ...)
{
	va_list ap;

	if (o->problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(o->problem, sizeof o->problem, fmt, ap);
	va_end(ap);
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
	struct voc_state *s = ud;
	enum tag t = s->depth <= MAX_DEPTH ? s->stack[s->depth - 1] : T_OTHER;
	unsigned long line = XML_GetCurrentLineNumber(s->parser);
	struct voc_object *o = current_object(s);
	char *text;
	double v;

	(void)el;
	if (s->collecting && wanted_leaf(s, t)) {
		s->collecting = 0;
		text = trimmed_text(s);
		switch (t) {
		case T_FILENAME:
			snprintf(s->filename, sizeof s->filename, "%s", text);
			break;
		case T_WIDTH:
		case T_HEIGHT:
			if (parse_number(text, &v) != 0 || v < 1 || v > INT_MAX || v != floor(v)) {
				if (s->size_problem[0] == '\0')
					snprintf(s->size_problem, sizeof s->size_problem,
						"%s:%lu: <%s> expected a positive whole number, got '%.40s'",
						s->name, line, tag_names[t], text);
			} else if (t == T_WIDTH) {
				s->width = (int)v;
			} else {
				s->height = (int)v;
			}
			break;
		case T_NAME:
			if (o) {
				snprintf(o->name, sizeof o->name, "%s", text);
				o->has_name = 1;
			}
			break;
		case T_DIFFICULT:
		case T_TRUNCATED:
			if (o == NULL)
				break;
			if (parse_number(text, &v) != 0 || (v != 0 && v != 1))
				object_problem(o, "%s:%lu: <%s> expected 0 or 1, got '%.40s'",
					s->name, line, tag_names[t], text);
			else if (t == T_DIFFICULT)
				o->difficult = v != 0;
			else
				o->truncated = v != 0;
			break;
		case T_XMIN:
		case T_YMIN:
		case T_XMAX:
		case T_YMAX:
			if (o == NULL)
				break;
			if (parse_number(text, &v) != 0) {
				object_problem(o, "%s:%lu: <%s> expected a number, got '%.40s'",
					s->name, line, tag_names[t], text);
			} else {
				o->coord[t - T_XMIN] = v;
				o->has_coord[t - T_XMIN] = 1;
				o->coord_line[t - T_XMIN] = line;
			}
			break;
		default:
			break;
		}
	}
	s->depth--;
}

#define CLASS_UNKNOWN INT_MIN

/* The index of class `name`, adding it when the mode discovers classes;
 * CLASS_UNKNOWN when the name is not allowed, DET_ENOMEM. */
static int class_index(struct dataset *ds, const struct voc_options *opt, const char *name)
{
	for (int c = 0; c < ds->nclasses; c++)
		if (strcmp(ds->class_names[c], name) == 0)
			return c;
	if (opt->classes == VOC_CLASSES_AUTO || opt->classes == VOC_CLASSES_DISCOVER)
		return dataset_class_add(ds, name, ds->nclasses + 1);
	return CLASS_UNKNOWN;
}

static int add_fixed_classes(struct dataset *ds, const struct voc_options *opt)
{
	int rc;

	if (ds->nclasses > 0)
		return 0;
	if (opt->classes == VOC_CLASSES_VOC)
		for (int c = 0; c < 20; c++)
			if ((rc = dataset_class_add(ds, voc_class_names[c], c + 1)) < 0)
				return rc;
	if (opt->classes == VOC_CLASSES_LIST)
		for (int c = 0; c < opt->nnames; c++)
			if ((rc = dataset_class_add(ds, opt->names[c], c + 1)) < 0)
				return rc;
	return 0;
}

static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + lb + 2);

	if (p == NULL)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* The basename of path without its extension, into buf. */
static void stem_of(const char *path, char *buf, size_t n)
{
	const char *b = strrchr(path, '/');
	const char *dot;
	size_t len;

	b = b ? b + 1 : path;
	dot = strrchr(b, '.');
	len = dot ? (size_t)(dot - b) : strlen(b);
	if (len >= n)
		len = n - 1;
	memcpy(buf, b, len);
	buf[len] = '\0';
}

static const char *const coord_names[4] = { "xmin", "ymin", "xmax", "ymax" };

/* Validates one object against the image size and adds its box.
 * Returns 0 (added or skipped) or DET_ENOMEM. */
static int add_object(struct voc_state *s, struct voc_object *o)
{
	struct dataset *ds = s->ds;
	const struct voc_options *opt = s->opt;
	struct dataset_box b;
	double x0, y0, x1, y1;
	int cls, clipped = 0;

	if (o->problem[0] == '\0') {
		if (!o->has_name || o->name[0] == '\0')
			object_problem(o, "%s:%lu: <object> has no <name>", s->name, o->line);
		else if (!o->has_bndbox)
			object_problem(o, "%s:%lu: <object> '%s' has no <bndbox>", s->name, o->line, o->name);
		for (int k = 0; k < 4 && o->problem[0] == '\0'; k++)
			if (!o->has_coord[k])
				object_problem(o, "%s:%lu: <bndbox> has no <%s>", s->name, o->bndbox_line,
					coord_names[k]);
	}
	if (o->problem[0]) {
		ds->report.boxes_skipped++;
		problem(ds, opt, "%s", o->problem);
		return 0;
	}
	if (o->difficult && opt->skip_difficult)
		return 0;
	cls = class_index(ds, opt, o->name);
	if (cls == DET_ENOMEM)
		return cls;
	if (cls == CLASS_UNKNOWN) {
		ds->report.boxes_skipped++;
		problem(ds, opt, "%s:%lu: unknown class '%s' (%s)", s->name, o->name_line, o->name,
			opt->classes == VOC_CLASSES_VOC ? "not one of the 20 VOC classes"
							: "not in the class list");
		return 0;
	}
	/* 1-based inclusive pixel indices -> continuous corners (see voc.h) */
	x0 = o->coord[0] - 1, y0 = o->coord[1] - 1, x1 = o->coord[2], y1 = o->coord[3];
	if (!(x1 > x0) || !(y1 > y0)) {
		ds->report.boxes_skipped++;
		problem(ds, opt, "%s:%lu: empty box: xmin %g, ymin %g, xmax %g, ymax %g "
			"(expected xmin <= xmax and ymin <= ymax)", s->name, o->bndbox_line,
			o->coord[0], o->coord[1], o->coord[2], o->coord[3]);
		return 0;
	}
	if (x0 < 0 || y0 < 0 || x1 > s->width || y1 > s->height) {
		if (x1 <= 0 || y1 <= 0 || x0 >= s->width || y0 >= s->height) {
			ds->report.boxes_skipped++;
			problem(ds, opt, "%s:%lu: box (%g, %g, %g, %g) lies outside the %dx%d image",
				s->name, o->bndbox_line, o->coord[0], o->coord[1], o->coord[2],
				o->coord[3], s->width, s->height);
			return 0;
		}
		clipped = 1;
		x0 = x0 < 0 ? 0 : x0;
		y0 = y0 < 0 ? 0 : y0;
		x1 = x1 > s->width ? s->width : x1;
		y1 = y1 > s->height ? s->height : y1;
	}
	if (clipped) {
		ds->report.boxes_clipped++;
		problem(ds, opt, "%s:%lu: box (%g, %g, %g, %g) crosses the border of the %dx%d image, clipped",
			s->name, o->bndbox_line, o->coord[0], o->coord[1], o->coord[2], o->coord[3],
			s->width, s->height);
	}
	memset(&b, 0, sizeof b);
	b.x0 = (float)x0, b.y0 = (float)y0, b.x1 = (float)x1, b.y1 = (float)y1;
	b.area = (b.x1 - b.x0) * (b.y1 - b.y0);
	b.cls = cls;
	b.ignore = (uint8_t)o->difficult;
	b.id = (int64_t)ds->nboxes;
	return dataset_box_add(ds, &b);
}

/* Fills the image size from the image file's header when <size> is missing or
 * invalid; 0 when the size is known, 1 when it can't be, or DET_ENOMEM. */
static int resolve_size(struct voc_state *s, const char *root, const char *file)
{
	char *path;
	int w, h, comp, ok;

	if (s->width > 0 && s->height > 0)
		return 0;
	if (root == NULL)
		return 1;
	if ((path = path_join(root, file)) == NULL)
		return DET_ENOMEM;
	ok = stbi_info(path, &w, &h, &comp);
	free(path);
	if (!ok)
		return 1;
	s->width = w;
	s->height = h;
	return 0;
}

int voc_parse_xml(struct dataset *ds, const char *xml, size_t len, const char *name,
	const char *root, long long id, const struct voc_options *opt)
{
	static const struct voc_options defaults;
	struct voc_state s;
	char file[TEXT_MAX + 16], stem[TEXT_MAX];
	int rc = 0, added = 0;

	if (opt == NULL)
		opt = &defaults;
	if ((rc = add_fixed_classes(ds, opt)) < 0)
		return rc;
	memset(&s, 0, sizeof s);
	s.ds = ds;
	s.opt = opt;
	s.name = name;
	if (len > INT_MAX) {
		ds->report.images_skipped++;
		problem(ds, opt, "%s: annotation file too large (%zu bytes)", name, len);
		return 0;
	}
	s.parser = XML_ParserCreate(NULL);
	if (s.parser == NULL)
		return det_error_set(DET_ENOMEM, "out of memory parsing %s", name);
	XML_SetUserData(s.parser, &s);
	XML_SetElementHandler(s.parser, on_start, on_end);
	XML_SetCharacterDataHandler(s.parser, on_text);
	if (XML_Parse(s.parser, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR) {
		if (s.nomem) {
			rc = det_error_set(DET_ENOMEM, "out of memory parsing %s", name);
		} else {
			ds->report.images_skipped++;
			problem(ds, opt, "%s:%lu:%lu: XML syntax error: %s", name,
				(unsigned long)XML_GetCurrentLineNumber(s.parser),
				(unsigned long)XML_GetCurrentColumnNumber(s.parser) + 1,
				XML_ErrorString(XML_GetErrorCode(s.parser)));
		}
		goto done;
	}
	if (s.root_problem[0]) {
		ds->report.images_skipped++;
		problem(ds, opt, "%s", s.root_problem);
		goto done;
	}
	if (s.filename[0])
		snprintf(file, sizeof file, "JPEGImages/%s", s.filename);
	else {
		stem_of(name, stem, sizeof stem);
		snprintf(file, sizeof file, "JPEGImages/%s.jpg", stem);
	}
	if (root && !opt->keep_missing) {
		char *path = path_join(root, file);

		if (path == NULL) {
			rc = det_error_set(DET_ENOMEM, "out of memory parsing %s", name);
			goto done;
		}
		if (access(path, R_OK) != 0) {
			ds->report.images_skipped++;
			problem(ds, opt, "%s: image %s is missing (%s)", name, path, strerror(errno));
			free(path);
			goto done;
		}
		free(path);
	}
	if ((rc = resolve_size(&s, root, file)) != 0) {
		if (rc == DET_ENOMEM)
			goto done;
		rc = 0;
		ds->report.images_skipped++;
		if (s.size_problem[0])
			problem(ds, opt, "%s", s.size_problem);
		else
			problem(ds, opt, "%s: no <size> with <width> and <height>%s", name,
				root ? " and the image header can't be read" : "");
		goto done;
	}
	if ((rc = (int)dataset_image_add(ds, id, file, s.width, s.height)) < 0)
		goto done;
	rc = 0;
	added = 1;
	for (size_t k = 0; k < s.nobjs && rc == 0; k++)
		rc = add_object(&s, &s.objs[k]);
done:
	XML_ParserFree(s.parser);
	free(s.objs);
	return rc < 0 ? rc : added;
}

/* The stems to read: from the split file, or every Annotations/<id>.xml sorted. */
struct stem_list {
	char **stems;
	unsigned long *lines; /* line in the split file, 0 when listed from the folder */
	size_t n, cap;
};

static int stems_add(struct stem_list *l, const char *stem, unsigned long line)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		char **s = realloc(l->stems, cap * sizeof *s);
		unsigned long *ln;

		if (s == NULL)
			return DET_ENOMEM;
		l->stems = s;
		ln = realloc(l->lines, cap * sizeof *ln);
		if (ln == NULL)
			return DET_ENOMEM;
		l->lines = ln;
		l->cap = cap;
	}
	if ((l->stems[l->n] = strdup(stem)) == NULL)
		return DET_ENOMEM;
	l->lines[l->n++] = line;
	return 0;
}

static void stems_free(struct stem_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->stems[i]);
	free(l->stems);
	free(l->lines);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_split(const char *root, const char *split, struct stem_list *l)
{
	char rel[512], *path, *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	FILE *f;
	int rc = 0;

	snprintf(rel, sizeof rel, "ImageSets/Main/%s.txt", split);
	if ((path = path_join(root, rel)) == NULL)
		return DET_ENOMEM;
	f = fopen(path, "r");
	if (f == NULL) {
		rc = det_error_set(DET_EIO, "%s: can't open the split file (%s)", path, strerror(errno));
		free(path);
		return rc;
	}
	free(path);
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		char *tok = strtok(line, " \t\r\n");

		lineno++;
		if (tok)
			rc = stems_add(l, tok, lineno);
	}
	free(line);
	fclose(f);
	return rc;
}

static int list_annotations(const char *dir, struct stem_list *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (d == NULL)
		return det_error_set(DET_EIO, "%s: can't open (%s)", dir, strerror(errno));
	while (rc == 0 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char stem[TEXT_MAX];

		if (n > 4 && n < sizeof stem && strcmp(e->d_name + n - 4, ".xml") == 0) {
			memcpy(stem, e->d_name, n - 4);
			stem[n - 4] = '\0';
			rc = stems_add(l, stem, 0);
		}
	}
	closedir(d);
	if (rc == 0)
		qsort(l->stems, l->n, sizeof *l->stems, cmp_str);
	return rc;
}

/* Reorders the classes: the 20 VOC classes in the devkit's order when every
 * name found is one of them (AUTO), else names sorted; boxes follow. */
static int finish_classes(struct dataset *ds, const struct voc_options *opt)
{
	int n = ds->nclasses, use_voc = opt->classes == VOC_CLASSES_AUTO, *map;
	char **names;
	int64_t *ids;
	int nnew;

	if (opt->classes != VOC_CLASSES_AUTO && opt->classes != VOC_CLASSES_DISCOVER)
		return 0;
	for (int c = 0; c < n && use_voc; c++) {
		int found = 0;

		for (int v = 0; v < 20; v++)
			found |= strcmp(ds->class_names[c], voc_class_names[v]) == 0;
		use_voc = found;
	}
	if (use_voc && n == 0 && ds->nimages == 0)
		use_voc = 1;
	nnew = use_voc ? 20 : n;
	map = malloc((size_t)(n ? n : 1) * sizeof *map);
	names = calloc((size_t)(nnew ? nnew : 1), sizeof *names);
	ids = malloc((size_t)(nnew ? nnew : 1) * sizeof *ids);
	if (map == NULL || names == NULL || ids == NULL) {
		free(map), free(names), free(ids);
		return det_error_set(DET_ENOMEM, "out of memory sorting classes");
	}
	if (use_voc) {
		for (int v = 0; v < 20; v++)
			names[v] = (char *)voc_class_names[v];
	} else {
		memcpy(names, ds->class_names, (size_t)n * sizeof *names);
		qsort(names, (size_t)n, sizeof *names, cmp_str);
	}
	for (int c = 0; c < n; c++)
		for (int k = 0; k < nnew; k++)
			if (strcmp(ds->class_names[c], names[k]) == 0)
				map[c] = k;
	for (int k = 0; k < nnew; k++) {
		names[k] = strdup(names[k]);
		ids[k] = k + 1;
		if (names[k] == NULL) {
			for (int j = 0; j < k; j++)
				free(names[j]);
			free(map), free(names), free(ids);
			return det_error_set(DET_ENOMEM, "out of memory sorting classes");
		}
	}
	for (size_t i = 0; i < ds->nboxes; i++)
		ds->boxes[i].cls = map[ds->boxes[i].cls];
	for (int c = 0; c < n; c++)
		free(ds->class_names[c]);
	free(ds->class_names);
	free(ds->class_ids);
	ds->class_names = names;
	ds->class_ids = ids;
	ds->nclasses = nnew;
	free(map);
	return 0;
}

int voc_read(const char *root, const struct voc_options *opt, struct dataset **out)
{
	static const struct voc_options defaults;
	struct stem_list list = { 0 };
	struct dataset *ds = NULL;
	char *anndir = NULL, name[512];
	const char *base;
	struct stat st;
	int rc;

	*out = NULL;
	if (opt == NULL)
		opt = &defaults;
	if ((anndir = path_join(root, "Annotations")) == NULL)
		return det_error_set(DET_ENOMEM, "out of memory");
	if (stat(anndir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = det_error_set(DET_EIO, "%s: no Annotations/ folder (expected a VOC root such as "
			"VOCdevkit/VOC2007)", root);
		goto fail;
	}
	rc = opt->split ? list_split(root, opt->split, &list) : list_annotations(anndir, &list);
	if (rc < 0)
		goto fail;
	base = strrchr(root, '/');
	base = base && base[1] ? base + 1 : root;
	snprintf(name, sizeof name, "%s%s%s", base, opt->split ? " " : "", opt->split ? opt->split : "");
	if ((ds = dataset_new(name, root)) == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < list.n; i++) {
		char *xmlpath, *buf = NULL;
		size_t len = 0;
		char rel[TEXT_MAX + 32];

		snprintf(rel, sizeof rel, "%s.xml", list.stems[i]);
		if ((xmlpath = path_join(anndir, rel)) == NULL) {
			rc = det_error_set(DET_ENOMEM, "out of memory");
			goto fail;
		}
		rc = det_file_read(xmlpath, &buf, &len);
		if (rc == DET_ENOMEM) {
			rc = det_error_set(DET_ENOMEM, "out of memory reading %s", xmlpath);
			free(xmlpath);
			goto fail;
		}
		if (rc < 0) {
			int err = errno;


			ds->report.images_skipped++;
			if (list.lines[i])
				problem(ds, opt, "%s: missing (listed in ImageSets/Main/%s.txt:%lu)", xmlpath,
					opt->split, list.lines[i]);
			else
				problem(ds, opt, "%s: can't read (%s)", xmlpath, strerror(err));
			free(xmlpath);
			continue;
		}
		rc = voc_parse_xml(ds, buf, len, xmlpath, root, (long long)i + 1, opt);
		free(buf);
		free(xmlpath);
		if (rc < 0)
			goto fail;
	}
	if ((rc = finish_classes(ds, opt)) < 0)
		goto fail;
	stems_free(&list);
	free(anndir);
	*out = ds;
	return 0;
fail:
	stems_free(&list);
	free(anndir);
	dataset_free(ds);
	return rc;
}
