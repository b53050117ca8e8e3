/* fashion.c: Fashion-MNIST IDX loading (zlib, shared per process) and the
 * scene generator: layout at construction (boxes), pixels on demand. */
#include "data/fashion.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/image.h"

const char *const fashion_class_names[FASHION_CLASSES] = {
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

#define FASHION_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"

/* ---- IDX files ---------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int fashion_idx_read(const char *path, int rank, int dims[3], uint8_t **data)
{
	gzFile f;
	uint8_t head[16];
	size_t total = 1;
	int got, hlen = 4 + 4 * rank, rc = 0;
	char extra;

	*data = NULL;
	f = gzopen(path, "rb");
	if (f == NULL)
		return det_error_set(DET_EIO, "can't open %s (%s); Fashion-MNIST comes with Debian's "
			"dataset-fashion-mnist package", path, errno ? strerror(errno) : "gzopen failed");
	got = gzread(f, head, (unsigned)hlen);
	if (got != hlen) {
		rc = det_error_set(DET_EFORMAT, "%s: IDX header truncated (%d of %d bytes)", path,
			got < 0 ? 0 : got, hlen);
		goto out;
	}
	/* magic: two zero bytes, type 0x08 (unsigned byte), number of dimensions */
	if (head[0] != 0 || head[1] != 0 || head[2] != 0x08 || head[3] != rank) {
		rc = det_error_set(DET_EFORMAT, "%s: bad IDX magic %02x %02x %02x %02x "
			"(expected 00 00 08 %02x: unsigned bytes, %d dimensions)", path,
			head[0], head[1], head[2], head[3], rank, rank);
		goto out;
	}
	for (int d = 0; d < rank; d++) {
		uint32_t v = be32(head + 4 + 4 * d);

		if (v == 0 || v > 10000000u) {
			rc = det_error_set(DET_EFORMAT, "%s: IDX dimension %d is %u", path, d, v);
			goto out;
		}
		dims[d] = (int)v;
		total *= v;
	}
	*data = malloc(total);
	if (*data == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory reading %s (%zu bytes)", path, total);
		goto out;
	}
	for (size_t off = 0; off < total;) {
		unsigned chunk = total - off > (1u << 30) ? (1u << 30) : (unsigned)(total - off);

		got = gzread(f, *data + off, chunk);
		if (got <= 0) {
			int zerr;
			const char *msg = gzerror(f, &zerr);

			rc = det_error_set(DET_EFORMAT, "%s: IDX data truncated (%zu of %zu bytes%s%s)", path,
				off, total, zerr < 0 ? ": " : "", zerr < 0 ? msg : "");
			goto out;
		}
		off += (size_t)got;
	}
	if (gzread(f, &extra, 1) > 0)
		rc = det_error_set(DET_EFORMAT, "%s: trailing bytes after %zu bytes of IDX data", path, total);
out:
	gzclose(f);
	if (rc < 0) {
		free(*data);
		*data = NULL;
	}
	return rc;
}

struct split_store {
	struct fashion_split s;
	uint8_t *pixels, *labels;
	int *index;
	int loaded;
};

static struct split_store stores[2];
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

static int split_load(enum fashion_split_id id, struct split_store *st)
{
	const char *dir = getenv("DETBENCH_FASHION_DIR");
	const char *pre = id == FASHION_TRAIN ? "train" : "t10k";
	char ipath[4096], lpath[4096];
	int idims[3], ldims[3], rc, off[FASHION_CLASSES + 1] = { 0 };

	if (dir == NULL || *dir == 0)
		dir = FASHION_DEFAULT_DIR;
	snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, pre);
	snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, pre);
	if ((rc = fashion_idx_read(ipath, 3, idims, &st->pixels)) < 0)
		return rc;
	if (idims[1] != FASHION_SIDE || idims[2] != FASHION_SIDE) {
		rc = det_error_set(DET_EFORMAT, "%s: items are %dx%d, expected 28x28", ipath, idims[1], idims[2]);
		goto fail;
	}
	if ((rc = fashion_idx_read(lpath, 1, ldims, &st->labels)) < 0)
		goto fail;
	if (ldims[0] != idims[0]) {
		rc = det_error_set(DET_EFORMAT, "%s has %d labels but %s has %d images", lpath, ldims[0], ipath, idims[0]);
		goto fail;
	}
	st->index = malloc(sizeof(int) * (size_t)idims[0]);
	if (st->index == NULL) {
		rc = det_error_set(DET_ENOMEM, "out of memory indexing %s", lpath);
		goto fail;
	}
	memset(&st->s, 0, sizeof st->s);
	for (int i = 0; i < idims[0]; i++) {
		if (st->labels[i] >= FASHION_CLASSES) {
			rc = det_error_set(DET_EFORMAT, "%s: label %d of item %d is out of range 0..9", lpath, st->labels[i], i);
			goto fail;
		}
		st->s.count[st->labels[i]]++;
	}
	for (int c = 0; c < FASHION_CLASSES; c++)
		off[c + 1] = off[c] + st->s.count[c];
	for (int c = 0; c < FASHION_CLASSES; c++)
		st->s.by_class[c] = st->index + off[c];
	for (int i = 0; i < idims[0]; i++)
		st->index[off[st->labels[i]]++] = i;
	st->s.n = idims[0];
	st->s.pixels = st->pixels;
	st->s.labels = st->labels;
	st->loaded = 1;
	return 0;
fail:
	free(st->pixels);
	free(st->labels);
	free(st->index);
	st->pixels = st->labels = NULL;
	st->index = NULL;
	return rc;
}

int fashion_split_get(enum fashion_split_id split, const struct fashion_split **out)
{
	struct split_store *st = &stores[split == FASHION_TEST];
	int rc = 0;

	pthread_mutex_lock(&store_lock);
	if (!st->loaded)
		rc = split_load(split, st);
	pthread_mutex_unlock(&store_lock);
	*out = rc < 0 ? NULL : &st->s;
	return rc;
}

/* ---- scenes ------------------------------------------------------------- */

struct fashion_object {
	int32_t item;
	int16_t x, y, w, h; /* where the scaled item's w x h square goes */
	uint8_t tint[3];
};

struct fashion_scene {
	uint8_t bg;         /* enum fashion_background, never MIXED */
	uint8_t c0[3], c1[3];
	float fx, fy;       /* gradient direction / texture frequencies */
};

struct fashion_gen {
	struct fashion_config cfg;
	const struct fashion_split *sp;
	struct fashion_scene *scenes;   /* one per image */
	struct fashion_object *objects; /* one per box, same index */
	size_t objects_cap;
};

void fashion_config_default(struct fashion_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->split = FASHION_TRAIN;
	cfg->images = 1000;
	cfg->size = 128;
	cfg->seed = 1;
	cfg->min_objects = 2;
	cfg->max_objects = 6;
	cfg->nclasses = FASHION_CLASSES;
	for (int c = 0; c < FASHION_CLASSES; c++) {
		cfg->classes[c] = c;
		cfg->class_weights[c] = 1;
	}
	cfg->background = FASHION_BG_MIXED;
	cfg->min_scale = 20.f / 128;
	cfg->max_scale = 64.f / 128;
	cfg->max_iou = 0.3f;
}

void fashion_config_skew(struct fashion_config *cfg, float skew)
{
	for (int c = 0; c < cfg->nclasses; c++)
		cfg->class_weights[c] = cfg->nclasses > 1 ? powf(skew, -(float)c / (cfg->nclasses - 1)) : 1;
}

/* Bilinear (align_corners = false) scaling of a 28x28 item to w x h. The
 * layout and the renderer both call this, so boxes match pixels exactly. */
static void item_scale(const uint8_t *src, int w, int h, uint8_t *out)
{
	const float sx = (float)FASHION_SIDE / w, sy = (float)FASHION_SIDE / h;

	for (int y = 0; y < h; y++) {
		float fy = (y + 0.5f) * sy - 0.5f;
		int j;

		fy = fy < 0 ? 0 : fy;
		j = (int)fy;
		if (j >= FASHION_SIDE - 1) {
			j = FASHION_SIDE - 2;
			fy = FASHION_SIDE - 1;
		}
		const float wy = fy - j;
		const uint8_t *r0 = src + j * FASHION_SIDE, *r1 = r0 + FASHION_SIDE;

		for (int x = 0; x < w; x++) {
			float fx = (x + 0.5f) * sx - 0.5f;
			int i;

			fx = fx < 0 ? 0 : fx;
			i = (int)fx;
			if (i >= FASHION_SIDE - 1) {
				i = FASHION_SIDE - 2;
				fx = FASHION_SIDE - 1;
			}
			const float wx = fx - i;
			float top = r0[i] + (r0[i + 1] - r0[i]) * wx;
			float bot = r1[i] + (r1[i + 1] - r1[i]) * wx;

			out[y * w + x] = (uint8_t)(top + (bot - top) * wy + 0.5f);
		}
	}
}

/* Tight box [x0, x1) x [y0, y1) of pixels >= FASHION_THRESHOLD; 0 if none. */
static int item_tight(const uint8_t *px, int w, int h, int b[4])
{
	b[0] = w, b[1] = h, b[2] = -1, b[3] = -1;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if (px[y * w + x] >= FASHION_THRESHOLD) {
				if (x < b[0]) b[0] = x;
				if (x > b[2]) b[2] = x;
				if (y < b[1]) b[1] = y;
				if (y > b[3]) b[3] = y;
			}
	b[2]++, b[3]++;
	return b[2] > b[0] && b[3] > b[1];
}

static float iou(const float *a, const float *b)
{
	float iw = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), ih = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
	float inter, uni;

	if (iw <= 0 || ih <= 0)
		return 0;
	inter = iw * ih;
	uni = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
	return inter / uni;
}

static void hsv_to_rgb(float h, float s, float v, uint8_t rgb[3])
{
	float c = v * s, hp = h * 6, x = c * (1 - fabsf(fmodf(hp, 2) - 1)), m = v - c, r, g, b;

	switch ((int)hp % 6) {
	case 0: r = c, g = x, b = 0; break;
	case 1: r = x, g = c, b = 0; break;
	case 2: r = 0, g = c, b = x; break;
	case 3: r = 0, g = x, b = c; break;
	case 4: r = x, g = 0, b = c; break;
	default: r = c, g = 0, b = x; break;
	}
	rgb[0] = (uint8_t)lroundf((r + m) * 255);
	rgb[1] = (uint8_t)lroundf((g + m) * 255);
	rgb[2] = (uint8_t)lroundf((b + m) * 255);
}

static int pick_class(const struct fashion_config *cfg, struct rng *r)
{
	float total = 0, u;

	for (int c = 0; c < cfg->nclasses; c++)
		total += cfg->class_weights[c];
	u = rng_uniform(r) * total;
	for (int c = 0; c < cfg->nclasses; c++) {
		if (u < cfg->class_weights[c])
			return c;
		u -= cfg->class_weights[c];
	}
	return cfg->nclasses - 1;
}

/* Lays out scene i: background and objects, appended to ds. */
static int scene_layout(struct fashion_gen *g, struct dataset *ds, size_t i, uint8_t *scratch)
{
	const struct fashion_config *cfg = &g->cfg;
	const int S = cfg->size;
	struct rng r;
	struct fashion_scene *sc = &g->scenes[i];
	float placed[64][4];
	int nplaced = 0, want, light, rc;

	rng_init(&r, rng_mix(cfg->seed, 0xfa5410), i);
	want = cfg->min_objects + (int)rng_below(&r, (uint32_t)(cfg->max_objects - cfg->min_objects + 1));
	sc->bg = cfg->background == FASHION_BG_MIXED ? (uint8_t)rng_below(&r, 3) : (uint8_t)cfg->background;
	light = rng_uniform(&r) < 0.5f;
	hsv_to_rgb(rng_uniform(&r), 0.1f + 0.4f * rng_uniform(&r),
		light ? 0.7f + 0.25f * rng_uniform(&r) : 0.08f + 0.25f * rng_uniform(&r), sc->c0);
	hsv_to_rgb(rng_uniform(&r), 0.1f + 0.4f * rng_uniform(&r),
		light ? 0.6f + 0.3f * rng_uniform(&r) : 0.1f + 0.3f * rng_uniform(&r), sc->c1);
	sc->fx = 0.05f + 0.4f * rng_uniform(&r);
	sc->fy = 0.05f + 0.4f * rng_uniform(&r);
	if (rng_uniform(&r) < 0.5f)
		sc->fx = -sc->fx;
	if ((rc = (int)dataset_image_add(ds, (int64_t)i + 1, NULL, S, S)) < 0) /* COCO-style ids from 1 */
		return rc;
	for (int k = 0; k < want && k < 64; k++) {
		int cls = pick_class(cfg, &r), label = cfg->classes[cls];
		int item = g->sp->by_class[label][rng_below(&r, (uint32_t)g->sp->count[label])];
		float side = S * (cfg->min_scale + (cfg->max_scale - cfg->min_scale) * rng_uniform(&r));
		float aspect = 0.8f + 0.4f * rng_uniform(&r);
		int w = (int)lroundf(side * sqrtf(aspect)), h = (int)lroundf(side / sqrtf(aspect)), t[4];
		struct fashion_object o;
		uint8_t tint[3];

		if (w < 4) w = 4;
		if (h < 4) h = 4;
		if (w > S) w = S;
		if (h > S) h = S;
		hsv_to_rgb(rng_uniform(&r), 0.35f + 0.65f * rng_uniform(&r),
			light ? 0.1f + 0.3f * rng_uniform(&r) : 0.75f + 0.25f * rng_uniform(&r), tint);
		item_scale(g->sp->pixels + (size_t)item * FASHION_SIDE * FASHION_SIDE, w, h, scratch);
		if (!item_tight(scratch, w, h, t))
			continue;
		for (int attempt = 0; attempt < 12; attempt++) {
			/* place so the tight box lies inside the scene */
			int x = -t[0] + (int)rng_below(&r, (uint32_t)(S - (t[2] - t[0]) + 1));
			int y = -t[1] + (int)rng_below(&r, (uint32_t)(S - (t[3] - t[1]) + 1));
			float b[4] = { (float)(x + t[0]), (float)(y + t[1]), (float)(x + t[2]), (float)(y + t[3]) };
			int clash = 0;

			for (int q = 0; q < nplaced && !clash; q++)
				clash = iou(b, placed[q]) > cfg->max_iou;
			if (clash)
				continue;
			struct dataset_box db = { b[0], b[1], b[2], b[3], (b[2] - b[0]) * (b[3] - b[1]),
				cls, 0, 0, (int64_t)ds->nboxes + 1 };

			o.item = item;
			o.x = (int16_t)x, o.y = (int16_t)y, o.w = (int16_t)w, o.h = (int16_t)h;
			memcpy(o.tint, tint, 3);
			if (ds->nboxes >= g->objects_cap) {
				size_t cap = g->objects_cap ? 2 * g->objects_cap : 256;
				struct fashion_object *p = realloc(g->objects, cap * sizeof *p);

				if (p == NULL)
					return det_error_set(DET_ENOMEM, "out of memory laying out scene %zu", i);
				g->objects = p;
				g->objects_cap = cap;
			}
			g->objects[ds->nboxes] = o;
			if ((rc = dataset_box_add(ds, &db)) < 0)
				return rc;
			memcpy(placed[nplaced++], b, sizeof b);
			break;
		}
	}
	return 0;
}

static void background_render(const struct fashion_config *cfg, const struct fashion_scene *sc,
	size_t i, struct image *im)
{
	const int S = im->width;
	uint8_t *p = im->data;

	switch (sc->bg) {
	case FASHION_BG_NOISE: {
		struct rng r;

		rng_init(&r, rng_mix(cfg->seed, 0x4015e), i);
		for (int k = 0; k < S * S; k++) {
			uint32_t u = rng_u32(&r);

			for (int c = 0; c < 3; c++) {
				int v = sc->c0[c] + (int)((u >> (8 * c)) & 63) - 32;

				p[3 * k + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
			}
		}
		break;
	}
	case FASHION_BG_GRADIENT: {
		float dx = sc->fx, dy = sc->fy, n = sqrtf(dx * dx + dy * dy);
		float lo = fminf(0, dx) + fminf(0, dy), hi = fmaxf(0, dx) + fmaxf(0, dy);

		dx /= n, dy /= n, lo /= n, hi /= n;
		for (int y = 0; y < S; y++)
			for (int x = 0; x < S; x++) {
				float t = ((dx * x + dy * y) / S - lo) / (hi - lo);

				for (int c = 0; c < 3; c++)
					p[3 * (y * S + x) + c] = (uint8_t)(sc->c0[c] + (sc->c1[c] - sc->c0[c]) * t + 0.5f);
			}
		break;
	}
	default: { /* texture: sin(fx x) sin(fy y) checks or stripes */
		float row[1024], col[1024];
		int L = S < 1024 ? S : 1024;

		for (int k = 0; k < L; k++) {
			row[k] = sinf(sc->fx * k);
			col[k] = sinf(sc->fy * k);
		}
		for (int y = 0; y < S; y++)
			for (int x = 0; x < S; x++) {
				float t = sc->fx < 0 ? 0.5f + 0.25f * (row[x % L] + col[y % L]) /* waves */
				                     : 0.5f + 0.5f * row[x % L] * col[y % L];     /* checks */

				for (int c = 0; c < 3; c++)
					p[3 * (y * S + x) + c] = (uint8_t)(sc->c0[c] + (sc->c1[c] - sc->c0[c]) * t + 0.5f);
			}
		break;
	}
	}
}

static int fashion_render(const struct dataset *ds, size_t i, struct image *out)
{
	const struct fashion_gen *g = ds->gen;
	const int S = g->cfg.size;
	const struct dataset_image *di;
	uint8_t stack[128 * 128], *scratch = stack;
	int rc;

	if (i >= ds->nimages)
		return det_error_set(DET_EINVAL, "%s: scene %zu out of range (%zu scenes)", ds->name, i, ds->nimages);
	if ((rc = image_init(out, S, S, 3)) < 0)
		return rc;
	if ((size_t)S * S > sizeof stack && (scratch = malloc((size_t)S * S)) == NULL) {
		image_fini(out);
		return det_error_set(DET_ENOMEM, "out of memory rendering scene %zu", i);
	}
	background_render(&g->cfg, &g->scenes[i], i, out);
	di = &ds->images[i];
	for (size_t k = di->box_start; k < di->box_start + di->box_count; k++) {
		const struct fashion_object *o = &g->objects[k];

		item_scale(g->sp->pixels + (size_t)o->item * FASHION_SIDE * FASHION_SIDE, o->w, o->h, scratch);
		for (int y = 0; y < o->h; y++) {
			int sy = o->y + y;

			if (sy < 0 || sy >= S)
				continue;
			for (int x = 0; x < o->w; x++) {
				int sx = o->x + x, v = scratch[y * o->w + x];

				if (sx < 0 || sx >= S || v == 0)
					continue;
				/* alpha = min(1, 1.6 v/255); colour = tint * (0.35 + 0.65 v/255) */
				float a = fminf(1.f, v * (1.6f / 255)), shade = 0.35f + 0.65f * v / 255;
				uint8_t *q = out->data + 3 * ((size_t)sy * S + sx);

				for (int c = 0; c < 3; c++)
					q[c] = (uint8_t)(q[c] * (1 - a) + o->tint[c] * shade * a + 0.5f);
			}
		}
	}
	if (scratch != stack)
		free(scratch);
	return 0;
}

static void fashion_gen_free(void *p)
{
	struct fashion_gen *g = p;

	if (g == NULL)
		return;
	free(g->scenes);
	free(g->objects);
	free(g);
}

int fashion_dataset_new(const struct fashion_config *cfg, struct dataset **out)
{
	struct fashion_gen *g;
	struct dataset *ds;
	uint8_t *scratch;
	float wsum = 0;
	int rc;

	*out = NULL;
	if (cfg->size < 16 || cfg->size > 4096)
		return det_error_set(DET_EINVAL, "fashion: size must be 16..4096, got %d", cfg->size);
	if (cfg->images < 1 || cfg->images > 10000000)
		return det_error_set(DET_EINVAL, "fashion: images must be 1..10000000, got %zu", cfg->images);
	if (cfg->min_objects < 1 || cfg->max_objects < cfg->min_objects || cfg->max_objects > 64)
		return det_error_set(DET_EINVAL, "fashion: need 1 <= min_objects (%d) <= max_objects (%d) <= 64",
			cfg->min_objects, cfg->max_objects);
	if (cfg->nclasses < 1 || cfg->nclasses > FASHION_CLASSES)
		return det_error_set(DET_EINVAL, "fashion: 1..10 classes, got %d", cfg->nclasses);
	if (!(cfg->min_scale > 0 && cfg->max_scale >= cfg->min_scale && cfg->max_scale <= 1))
		return det_error_set(DET_EINVAL, "fashion: need 0 < min_scale <= max_scale <= 1");
	for (int c = 0; c < cfg->nclasses; c++) {
		if (cfg->classes[c] < 0 || cfg->classes[c] >= FASHION_CLASSES)
			return det_error_set(DET_EINVAL, "fashion: class %d out of range", cfg->classes[c]);
		for (int d = 0; d < c; d++)
			if (cfg->classes[d] == cfg->classes[c])
				return det_error_set(DET_EINVAL, "fashion: class %s listed twice",
					fashion_class_names[cfg->classes[c]]);
		if (!(cfg->class_weights[c] >= 0) || !isfinite(cfg->class_weights[c]))
			return det_error_set(DET_EINVAL, "fashion: weight of class %s must be >= 0",
				fashion_class_names[cfg->classes[c]]);
		wsum += cfg->class_weights[c];
	}
	if (!(wsum > 0))
		return det_error_set(DET_EINVAL, "fashion: class weights sum to zero");
	g = calloc(1, sizeof *g);
	if (g == NULL)
		return det_error_set(DET_ENOMEM, "out of memory for the fashion dataset");
	g->cfg = *cfg;
	if ((rc = fashion_split_get(cfg->split, &g->sp)) < 0) {
		free(g);
		return rc;
	}
	ds = dataset_new(cfg->split == FASHION_TRAIN ? "fashion-train" : "fashion-test", NULL);
	if (ds == NULL) {
		free(g);
		return det_error_set(DET_ENOMEM, "out of memory for the fashion dataset");
	}
	ds->gen = g;
	ds->gen_free = fashion_gen_free;
	ds->render = fashion_render;
	for (int c = 0; c < cfg->nclasses; c++)
		if ((rc = dataset_class_add(ds, fashion_class_names[cfg->classes[c]], cfg->classes[c])) < 0)
			goto fail;
	g->scenes = calloc(cfg->images, sizeof *g->scenes);
	scratch = malloc((size_t)cfg->size * cfg->size);
	if (g->scenes == NULL || scratch == NULL) {
		free(scratch);
		rc = det_error_set(DET_ENOMEM, "out of memory for %zu scenes", cfg->images);
		goto fail;
	}
	for (size_t i = 0; i < cfg->images; i++)
		if ((rc = scene_layout(g, ds, i, scratch)) < 0)
			break;
	free(scratch);
	if (rc < 0)
		goto fail;
	*out = ds;
	return 0;
fail:
	dataset_free(ds);
	return rc;
}

int fashion_box_source(const struct dataset *ds, size_t k, enum fashion_split_id *split, int *item)
{
	const struct fashion_gen *g;

	if (ds->render != fashion_render || k >= ds->nboxes)
		return det_error_set(DET_EINVAL, "not a fashion dataset box");
	g = ds->gen;
	*split = g->cfg.split;
	*item = g->objects[k].item;
	return 0;
}

int fashion_object_mask(const struct dataset *ds, size_t k, struct image *out)
{
	const struct fashion_gen *g;
	const struct fashion_object *o;
	uint8_t *scaled;
	int rc;

	if (ds->render != fashion_render || k >= ds->nboxes)
		return det_error_set(DET_EINVAL, "not a fashion dataset box");
	g = ds->gen;
	o = &g->objects[k];
	if ((rc = image_init(out, g->cfg.size, g->cfg.size, 1)) < 0)
		return rc;
	scaled = malloc((size_t)o->w * o->h);
	if (scaled == NULL) {
		image_fini(out);
		return det_error_set(DET_ENOMEM, "out of memory for an object mask");
	}
	memset(out->data, 0, (size_t)g->cfg.size * g->cfg.size);
	item_scale(g->sp->pixels + (size_t)o->item * FASHION_SIDE * FASHION_SIDE, o->w, o->h, scaled);
	for (int y = 0; y < o->h; y++)
		for (int x = 0; x < o->w; x++) {
			int sx = o->x + x, sy = o->y + y;

			if (sx >= 0 && sy >= 0 && sx < g->cfg.size && sy < g->cfg.size && scaled[y * o->w + x] >= FASHION_THRESHOLD)
				out->data[(size_t)sy * g->cfg.size + sx] = 255;
		}
	free(scaled);
	return 0;
}
