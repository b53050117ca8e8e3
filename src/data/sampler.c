/* sampler.c: the five samplers of sampler.h; every random choice draws from
 * a stream seeded by (seed, epoch). */
#include "data/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "data/dataset.h"

struct sampler {
	struct sampler_config cfg;
	size_t n;
	float *repeat;          /* repeat_factor: per image */
	float *class_repeat;    /* repeat_factor: per class */
	int nclasses, nactive;  /* class_aware: classes, classes with images */
	int *active;            /* class_aware: the classes with images */
	size_t *cstart, *cimg;  /* class_aware: images of class c = cimg[cstart[c] .. cstart[c+1]) */
	double *cum;            /* weights: cumulative sums, cum[n-1] = total */
};

static const char *const names[] = { "sequential", "shuffle", "repeat_factor", "class_aware", "weights" };

const char *sampler_kind_name(enum sampler_kind k)
{
	return names[k];
}

void sampler_config_default(struct sampler_config *cfg, enum sampler_kind kind)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->kind = kind;
	cfg->threshold = 0.1f;
	cfg->shuffle = 1;
}

void sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	free(s->repeat);
	free(s->class_repeat);
	free(s->active);
	free(s->cstart);
	free(s->cimg);
	free(s->cum);
	free(s);
}

/* Marks which classes image i contains: seen[c] == stamp. */
static void mark_classes(const struct dataset *ds, size_t i, size_t *seen, size_t stamp)
{
	const struct dataset_box *b = dataset_image_boxes(ds, i);

	for (size_t k = 0; k < ds->images[i].box_count; k++)
		if (b[k].cls >= 0 && b[k].cls < ds->nclasses)
			seen[b[k].cls] = stamp;
}

static int build_repeat(struct sampler *s, const struct dataset *ds)
{
	size_t *seen = malloc(sizeof(size_t) * (size_t)(ds->nclasses ? ds->nclasses : 1));
	size_t *count = calloc((size_t)(ds->nclasses ? ds->nclasses : 1), sizeof(size_t));
	int rc = 0;

	s->repeat = malloc(sizeof(float) * s->n);
	s->class_repeat = calloc((size_t)(ds->nclasses ? ds->nclasses : 1), sizeof(float));
	if (!seen || !count || !s->repeat || !s->class_repeat) {
		rc = det_error_set(DET_ENOMEM, "out of memory building a repeat-factor sampler");
		goto out;
	}
	for (int c = 0; c < ds->nclasses; c++)
		seen[c] = (size_t)-1;
	for (size_t i = 0; i < s->n; i++) {
		mark_classes(ds, i, seen, i);
		for (int c = 0; c < ds->nclasses; c++)
			count[c] += seen[c] == i;
	}
	/* r(c) = max(1, sqrt(t / f(c))), f(c) = images with c / images */
	for (int c = 0; c < ds->nclasses; c++)
		if (count[c])
			s->class_repeat[c] = fmaxf(1.f, sqrtf(s->cfg.threshold / ((float)count[c] / (float)s->n)));
	for (int c = 0; c < ds->nclasses; c++)
		seen[c] = (size_t)-1;
	for (size_t i = 0; i < s->n; i++) {
		float r = 1;

		mark_classes(ds, i, seen, i);
		for (int c = 0; c < ds->nclasses; c++)
			if (seen[c] == i)
				r = fmaxf(r, s->class_repeat[c]);
		s->repeat[i] = r;
	}
out:
	free(seen);
	free(count);
	return rc;
}

static int build_class_aware(struct sampler *s, const struct dataset *ds)
{
	const int C = ds->nclasses;
	size_t *seen = malloc(sizeof(size_t) * (size_t)(C ? C : 1)), total = 0;
	int rc = 0;

	s->nclasses = C;
	s->cstart = calloc((size_t)C + 1, sizeof(size_t));
	s->active = malloc(sizeof(int) * (size_t)(C ? C : 1));
	if (!seen || !s->cstart || !s->active) {
		rc = det_error_set(DET_ENOMEM, "out of memory building a class-aware sampler");
		goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		size_t *fill = pass ? calloc((size_t)(C ? C : 1), sizeof(size_t)) : NULL;

		if (pass && fill == NULL) {
			rc = det_error_set(DET_ENOMEM, "out of memory building a class-aware sampler");
			goto out;
		}
		for (int c = 0; c < C; c++)
			seen[c] = (size_t)-1;
		for (size_t i = 0; i < s->n; i++) {
			mark_classes(ds, i, seen, i);
			for (int c = 0; c < C; c++)
				if (seen[c] == i) {
					if (pass)
						s->cimg[s->cstart[c] + fill[c]++] = i;
					else
						s->cstart[c + 1]++, total++;
				}
		}
		if (!pass) {
			for (int c = 0; c < C; c++)
				s->cstart[c + 1] += s->cstart[c];
			s->cimg = malloc(sizeof(size_t) * (total ? total : 1));
			if (s->cimg == NULL) {
				rc = det_error_set(DET_ENOMEM, "out of memory building a class-aware sampler");
				goto out;
			}
		}
		free(fill);
	}
	for (int c = 0; c < C; c++)
		if (s->cstart[c + 1] > s->cstart[c])
			s->active[s->nactive++] = c;
	if (s->nactive == 0)
		rc = det_error_set(DET_EINVAL, "%s: class-aware sampling needs boxes, the dataset has none", ds->name);
out:
	free(seen);
	return rc;
}

static int build_weights(struct sampler *s, const struct dataset *ds, const float *w)
{
	double sum = 0;

	if (w == NULL)
		return det_error_set(DET_EINVAL, "weights sampler without weights");
	s->cum = malloc(sizeof(double) * s->n);
	if (s->cum == NULL)
		return det_error_set(DET_ENOMEM, "out of memory building a weights sampler");
	for (size_t i = 0; i < s->n; i++) {
		if (!(w[i] >= 0) || !isfinite(w[i]))
			return det_error_set(DET_EINVAL, "%s: weight of image %zu (id %lld) is %g; weights must be finite and >= 0",
				ds->name, i + 1, (long long)ds->images[i].id, w[i]);
		sum += w[i];
		s->cum[i] = sum;
	}
	if (!(sum > 0))
		return det_error_set(DET_EINVAL, "%s: all sampling weights are zero", ds->name);
	return 0;
}

struct sampler *sampler_new(const struct dataset *ds, const struct sampler_config *cfg, const float *weights)
{
	struct sampler *s;
	int rc = 0;

	if (ds->nimages == 0) {
		det_error_set(DET_EINVAL, "%s: can't sample an empty dataset", ds->name);
		return NULL;
	}
	if (cfg->kind == SAMPLER_REPEAT_FACTOR && !(cfg->threshold > 0 && cfg->threshold <= 1)) {
		det_error_set(DET_EINVAL, "repeat_factor: threshold must be in (0, 1], got %g", cfg->threshold);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		det_error_set(DET_ENOMEM, "out of memory building a sampler");
		return NULL;
	}
	s->cfg = *cfg;
	s->n = ds->nimages;
	if (s->cfg.num_samples == 0)
		s->cfg.num_samples = s->n;
	switch (cfg->kind) {
	case SAMPLER_REPEAT_FACTOR: rc = build_repeat(s, ds); break;
	case SAMPLER_CLASS_AWARE: rc = build_class_aware(s, ds); break;
	case SAMPLER_WEIGHTS: rc = build_weights(s, ds, weights); break;
	default: break;
	}
	if (rc < 0) {
		sampler_free(s);
		return NULL;
	}
	return s;
}

enum sampler_kind sampler_kind(const struct sampler *s)
{
	return s->cfg.kind;
}

size_t sampler_size(const struct sampler *s)
{
	return s->n;
}

float sampler_repeat_factor(const struct sampler *s, size_t i)
{
	return s->repeat && i < s->n ? s->repeat[i] : 1;
}

float sampler_class_repeat_factor(const struct sampler *s, int c)
{
	return s->class_repeat && c >= 0 ? s->class_repeat[c] : 0;
}

double sampler_probability(const struct sampler *s, size_t i)
{
	switch (s->cfg.kind) {
	case SAMPLER_REPEAT_FACTOR: {
		double sum = 0;

		for (size_t k = 0; k < s->n; k++)
			sum += s->repeat[k];
		return s->repeat[i] / sum;
	}
	case SAMPLER_CLASS_AWARE: {
		double p = 0;

		for (int a = 0; a < s->nactive; a++) {
			int c = s->active[a];

			for (size_t k = s->cstart[c]; k < s->cstart[c + 1]; k++)
				if (s->cimg[k] == i)
					p += 1.0 / s->nactive / (double)(s->cstart[c + 1] - s->cstart[c]);
		}
		return p;
	}
	case SAMPLER_WEIGHTS:
		return (s->cum[i] - (i ? s->cum[i - 1] : 0)) / s->cum[s->n - 1];
	default:
		return 1.0 / (double)s->n;
	}
}

static void shuffle(size_t *a, size_t n, struct rng *r)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(r, (uint32_t)i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* 53-bit uniform in [0, 1), for weights over many images. */
static double uniform53(struct rng *r)
{
	uint64_t v = ((uint64_t)rng_u32(r) << 21) ^ (rng_u32(r) >> 11);

	return (double)(v & ((1ULL << 53) - 1)) / 9007199254740992.0;
}

int sampler_epoch(const struct sampler *s, uint64_t seed, int64_t epoch, size_t **order, size_t *n)
{
	struct rng r;
	size_t m = 0, cap;
	size_t *a;

	rng_init(&r, rng_mix(seed, (uint64_t)epoch), 0x5a3b1e + s->cfg.kind);
	switch (s->cfg.kind) {
	case SAMPLER_REPEAT_FACTOR: {
		cap = 0;
		for (size_t i = 0; i < s->n; i++)
			cap += (size_t)ceilf(s->repeat[i]);
		break;
	}
	case SAMPLER_CLASS_AWARE:
	case SAMPLER_WEIGHTS: cap = s->cfg.num_samples; break;
	default: cap = s->n; break;
	}
	a = malloc(sizeof(size_t) * (cap ? cap : 1));
	if (a == NULL)
		return det_error_set(DET_ENOMEM, "out of memory for an epoch of %zu samples", cap);
	switch (s->cfg.kind) {
	case SAMPLER_SEQUENTIAL:
	case SAMPLER_SHUFFLE:
		for (m = 0; m < s->n; m++)
			a[m] = m;
		if (s->cfg.kind == SAMPLER_SHUFFLE)
			shuffle(a, m, &r);
		break;
	case SAMPLER_REPEAT_FACTOR:
		for (size_t i = 0; i < s->n; i++) {
			float r_i = s->repeat[i], whole = floorf(r_i);
			size_t times = (size_t)whole + (rng_uniform(&r) < r_i - whole);

			for (size_t t = 0; t < times; t++)
				a[m++] = i;
		}
		if (s->cfg.shuffle)
			shuffle(a, m, &r);
		break;
	case SAMPLER_CLASS_AWARE:
		for (; m < cap; m++) {
			int c = s->active[rng_below(&r, (uint32_t)s->nactive)];
			size_t cnt = s->cstart[c + 1] - s->cstart[c];

			a[m] = s->cimg[s->cstart[c] + rng_below(&r, (uint32_t)cnt)];
		}
		break;
	case SAMPLER_WEIGHTS:
		for (; m < cap; m++) {
			double u = uniform53(&r) * s->cum[s->n - 1];
			size_t lo = 0, hi = s->n - 1;

			while (lo < hi) { /* first i with cum[i] > u */
				size_t mid = (lo + hi) / 2;

				if (s->cum[mid] > u)
					hi = mid;
				else
					lo = mid + 1;
			}
			a[m] = lo;
		}
		break;
	}
	*order = a;
	*n = m;
	return 0;
}
