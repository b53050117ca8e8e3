/* loader.c: worker threads filling a ring of preallocated batches. Batches
 * are planned one after the other under the lock (so their contents follow
 * the sampler, not the threads); any worker may fill any planned sample. */
#include "data/loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/image.h"
#include "data/imageio.h"
#include "data/sampler.h"

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY };

struct slot {
	struct loader_batch b;
	enum slot_state state;
	size_t planned;   /* samples planned (<= batch) */
	size_t claimed;   /* samples handed to workers */
	size_t pending;   /* samples not finished */
	uint8_t *ok;      /* per sample: loaded fine */
};

struct loader {
	const struct dataset *ds;
	const struct sampler *sampler;
	struct sampler *own_sampler; /* sequential, when none was given */
	struct aug_list augs;
	struct loader_config cfg;
	int max_side;

	pthread_mutex_t mu;
	pthread_cond_t work_cv, ready_cv;
	pthread_t *threads;
	int nthreads;
	int stop, failed;
	char fail_msg[512];

	struct slot *slots;
	int nslots;
	size_t next_plan, next_deliver;
	int held; /* slot the consumer holds, or -1 */

	int64_t epoch;
	size_t *order, order_n, pos;
	size_t resume_pos; /* cfg.start_pos until the first epoch is planned */

	size_t samples, skipped, truncated;
	char last_error[512];
	double wait_s, t_first;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void loader_config_default(struct loader_config *cfg)
{
	static const float mean[3] = { 0.485f, 0.456f, 0.406f }, std[3] = { 0.229f, 0.224f, 0.225f };

	memset(cfg, 0, sizeof *cfg);
	cfg->batch = 16;
	cfg->size = 128;
	cfg->workers = 2;
	cfg->seed = 1;
	memcpy(cfg->mean, mean, sizeof mean);
	memcpy(cfg->std, std, sizeof std);
	cfg->letterbox = 1;
}

/* Plans the next batch into its slot; called with the lock held. 0, or
 * 1 when the slot is still busy, or a negative code. */
static int plan_next(struct loader *l)
{
	struct slot *s = &l->slots[l->next_plan % (size_t)l->nslots];
	size_t n;

	if (s->state != SLOT_FREE || l->held == (int)(l->next_plan % (size_t)l->nslots))
		return 1;
	for (int tries = 0;; tries++) {
		if (l->order == NULL || l->pos >= l->order_n) {
			int rc;

			if (l->order) {
				free(l->order);
				l->order = NULL;
				l->epoch++;
			}
			if ((rc = sampler_epoch(l->sampler, l->cfg.seed, l->epoch, &l->order, &l->order_n)) < 0)
				return rc;
			l->pos = 0;
			if (l->resume_pos) { /* resuming mid-epoch: skip what was consumed */
				l->pos = l->resume_pos < l->order_n ? l->resume_pos : l->order_n;
				l->resume_pos = 0;
			}
		}
		n = l->order_n - l->pos;
		if (n > l->cfg.batch)
			n = l->cfg.batch;
		if (n > 0 && !(l->cfg.drop_last && n < l->cfg.batch))
			break;
		l->pos = l->order_n; /* empty or dropped remainder: next epoch */
		if (tries > 2)
			return det_error_set(DET_EINVAL, "%s: an epoch has fewer samples (%zu) than a batch (%zu) with drop_last",
				l->ds->name, l->order_n, l->cfg.batch);
	}
	s->b.epoch = l->epoch;
	s->b.first = l->pos;
	s->b.number = l->next_plan;
	s->b.width = s->b.height = aug_list_batch_size(&l->augs, l->cfg.size, l->cfg.seed, l->next_plan);
	memcpy(s->b.indices, l->order + l->pos, n * sizeof(size_t));
	l->pos += n;
	s->b.last_in_epoch = l->pos >= l->order_n ||
		(l->cfg.drop_last && l->order_n - l->pos < l->cfg.batch);
	s->planned = n;
	s->claimed = 0;
	s->pending = n;
	s->state = SLOT_FILLING;
	l->next_plan++;
	return 0;
}

/* Loads, augments, resizes and writes sample j of slot s. Runs unlocked:
 * it touches only that sample's part of the buffers. */
static int fill_sample(struct loader *l, struct slot *s, size_t j, struct image *out)
{
	const size_t idx = s->b.indices[j];
	const int W = s->b.width, H = s->b.height, M = l->cfg.max_boxes;
	struct aug_sample smp;
	float *img = s->b.images + j * 3 * (size_t)W * H, *bx = s->b.boxes + j * 4 * (size_t)M;
	int32_t *cl = s->b.classes + j * (size_t)M;
	float *tf = s->b.transform + 4 * j;
	int rc, m = 0;

	aug_sample_init(&smp);
	if ((rc = aug_sample_load(l->ds, idx, &smp)) < 0)
		goto done;
	if ((rc = aug_list_apply(&l->augs, l->ds, &smp, l->cfg.seed, s->b.epoch, s->b.first + j)) < 0)
		goto done;
	out->width = W, out->height = H, out->channels = 3;
	if (l->cfg.letterbox) {
		struct letterbox lb;

		if ((rc = imageio_letterbox(&smp.im, out, 114, &lb)) < 0)
			goto done;
		tf[0] = lb.scale_x, tf[1] = lb.scale_y, tf[2] = lb.pad_x, tf[3] = lb.pad_y;
	} else {
		rc = imageio_resize(&smp.im, out, (W < smp.im.width && H < smp.im.height) ? IMAGEIO_AREA : IMAGEIO_BILINEAR);
		if (rc < 0)
			goto done;
		tf[0] = (float)W / smp.im.width, tf[1] = (float)H / smp.im.height, tf[2] = tf[3] = 0;
	}
	/* x = (p / 255 - mean) / std, HWC bytes -> CHW floats */
	for (int c = 0; c < 3; c++) {
		const float a = 1.f / (255.f * l->cfg.std[c]), b = -l->cfg.mean[c] / l->cfg.std[c];
		float *plane = img + (size_t)c * W * H;

		for (size_t p = 0; p < (size_t)W * H; p++)
			plane[p] = out->data[3 * p + c] * a + b;
	}
	for (size_t k = 0; k < smp.n; k++) {
		const struct aug_box *b = &smp.boxes[k];
		float x0 = b->x0 * tf[0] + tf[2], x1 = b->x1 * tf[0] + tf[2];
		float y0 = b->y0 * tf[1] + tf[3], y1 = b->y1 * tf[1] + tf[3];

		if (x1 - x0 <= 0 || y1 - y0 <= 0)
			continue;
		if (m == M) {
			pthread_mutex_lock(&l->mu);
			l->truncated += smp.n - k;
			pthread_mutex_unlock(&l->mu);
			break;
		}
		bx[4 * m] = x0, bx[4 * m + 1] = y0, bx[4 * m + 2] = x1, bx[4 * m + 3] = y1;
		cl[m++] = b->cls;
	}
	s->b.counts[j] = m;
done:
	aug_sample_fini(&smp);
	return rc;
}

static void *worker_main(void *arg)
{
	struct loader *l = arg;
	struct image out;

	if (image_init(&out, l->max_side, l->max_side, 3) < 0) {
		pthread_mutex_lock(&l->mu);
		l->failed = 1;
		snprintf(l->fail_msg, sizeof l->fail_msg, "%s", det_error_message());
		pthread_cond_broadcast(&l->ready_cv);
		pthread_mutex_unlock(&l->mu);
		return NULL;
	}
	pthread_mutex_lock(&l->mu);
	while (!l->stop) {
		struct slot *s = NULL;
		size_t j = 0;

		/* the oldest planned batch with unclaimed samples, else plan one */
		for (size_t k = l->next_deliver; k < l->next_plan; k++) {
			struct slot *c = &l->slots[k % (size_t)l->nslots];

			if (c->state == SLOT_FILLING && c->claimed < c->planned) {
				s = c;
				break;
			}
		}
		if (s == NULL && !l->failed) {
			int rc = plan_next(l);

			if (rc < 0) {
				l->failed = 1;
				snprintf(l->fail_msg, sizeof l->fail_msg, "%s", det_error_message());
				pthread_cond_broadcast(&l->ready_cv);
			} else if (rc == 0) {
				s = &l->slots[(l->next_plan - 1) % (size_t)l->nslots];
				pthread_cond_broadcast(&l->work_cv); /* more samples to claim */
			}
		}
		if (s == NULL) {
			pthread_cond_wait(&l->work_cv, &l->mu);
			continue;
		}
		j = s->claimed++;
		pthread_mutex_unlock(&l->mu);
		int rc = fill_sample(l, s, j, &out);
		pthread_mutex_lock(&l->mu);
		s->ok[j] = rc == 0;
		if (rc < 0) {
			l->skipped++;
			snprintf(l->last_error, sizeof l->last_error, "%s", det_error_message());
		}
		if (--s->pending == 0) {
			s->state = SLOT_READY;
			pthread_cond_broadcast(&l->ready_cv);
		}
	}
	pthread_mutex_unlock(&l->mu);
	image_fini(&out);
	return NULL;
}

/* Moves the good samples of a finished batch to the front. */
static void compact(struct loader *l, struct slot *s)
{
	const size_t img = 3 * (size_t)s->b.width * s->b.height, M = (size_t)l->cfg.max_boxes;
	int n = 0;

	for (size_t j = 0; j < s->planned; j++) {
		if (!s->ok[j])
			continue;
		if ((size_t)n != j) {
			memmove(s->b.images + n * img, s->b.images + j * img, img * sizeof(float));
			memmove(s->b.boxes + n * 4 * M, s->b.boxes + j * 4 * M, 4 * M * sizeof(float));
			memmove(s->b.classes + n * M, s->b.classes + j * M, M * sizeof(int32_t));
			memmove(s->b.transform + 4 * n, s->b.transform + 4 * j, 4 * sizeof(float));
			s->b.counts[n] = s->b.counts[j];
			s->b.indices[n] = s->b.indices[j];
		}
		n++;
	}
	s->b.n = n;
	s->b.skipped = (int)s->planned - n;
}

int loader_next(struct loader *l, const struct loader_batch **out)
{
	double t0 = now_s();
	struct slot *s;
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&l->mu);
	if (l->t_first == 0)
		l->t_first = t0;
	if (l->held >= 0) {
		l->slots[l->held].state = SLOT_FREE;
		l->held = -1;
		l->next_deliver++;
		pthread_cond_broadcast(&l->work_cv);
	}
	s = &l->slots[l->next_deliver % (size_t)l->nslots];
	while (!(s->state == SLOT_READY && s->b.number == l->next_deliver) && !l->failed)
		pthread_cond_wait(&l->ready_cv, &l->mu);
	if (s->state == SLOT_READY && s->b.number == l->next_deliver) {
		compact(l, s);
		l->held = (int)(l->next_deliver % (size_t)l->nslots);
		l->samples += (size_t)s->b.n;
		*out = &s->b;
	} else {
		rc = det_error_set(DET_EINVAL, "%s", l->fail_msg);
	}
	l->wait_s += now_s() - t0;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void loader_stats(struct loader *l, struct loader_stats *st)
{
	pthread_mutex_lock(&l->mu);
	memset(st, 0, sizeof *st);
	st->batches = l->next_deliver + (l->held >= 0);
	st->samples = l->samples;
	st->skipped = l->skipped;
	st->boxes_truncated = l->truncated;
	st->wait_s = l->wait_s;
	st->elapsed_s = l->t_first > 0 ? now_s() - l->t_first : 0;
	st->wait_fraction = st->elapsed_s > 0 ? st->wait_s / st->elapsed_s : 0;
	snprintf(st->last_error, sizeof st->last_error, "%s", l->last_error);
	pthread_mutex_unlock(&l->mu);
}

void loader_free(struct loader *l)
{
	if (l == NULL)
		return;
	if (l->threads) {
		pthread_mutex_lock(&l->mu);
		l->stop = 1;
		pthread_cond_broadcast(&l->work_cv);
		pthread_mutex_unlock(&l->mu);
		for (int t = 0; t < l->nthreads; t++)
			pthread_join(l->threads[t], NULL);
		free(l->threads);
	}
	for (int k = 0; l->slots && k < l->nslots; k++) {
		struct slot *s = &l->slots[k];

		free(s->b.images);
		free(s->b.boxes);
		free(s->b.classes);
		free(s->b.counts);
		free(s->b.indices);
		free(s->b.transform);
		free(s->ok);
	}
	free(l->slots);
	free(l->order);
	sampler_free(l->own_sampler);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->work_cv);
	pthread_cond_destroy(&l->ready_cv);
	free(l);
}

struct loader *loader_new_config(const struct dataset *ds, const struct sampler *sampler,
	const struct aug_list *augs, const struct loader_config *cfg)
{
	struct loader *l;

	if (cfg->batch < 1 || cfg->batch > 65536 || cfg->size < 8 || cfg->size > 8192 || cfg->workers < 1 || cfg->workers > 256) {
		det_error_set(DET_EINVAL, "loader: need batch 1..65536 (got %zu), size 8..8192 (got %d), workers 1..256 (got %d)",
			cfg->batch, cfg->size, cfg->workers);
		return NULL;
	}
	for (int c = 0; c < 3; c++)
		if (!(cfg->std[c] > 0)) {
			det_error_set(DET_EINVAL, "loader: std[%d] must be > 0", c);
			return NULL;
		}
	if (ds->nimages == 0) {
		det_error_set(DET_EINVAL, "loader: dataset %s is empty", ds->name);
		return NULL;
	}
	if (sampler && sampler_size(sampler) != ds->nimages) {
		det_error_set(DET_EINVAL, "loader: the sampler was built for %zu images, %s has %zu",
			sampler_size(sampler), ds->name, ds->nimages);
		return NULL;
	}
	l = calloc(1, sizeof *l);
	if (l == NULL) {
		det_error_set(DET_ENOMEM, "out of memory for a loader");
		return NULL;
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->work_cv, NULL);
	pthread_cond_init(&l->ready_cv, NULL);
	l->ds = ds;
	l->cfg = *cfg;
	if (l->cfg.max_boxes <= 0)
		l->cfg.max_boxes = 100;
	if (l->cfg.ring <= 0)
		l->cfg.ring = cfg->workers + 2;
	if (l->cfg.ring < 2)
		l->cfg.ring = 2;
	if (augs)
		l->augs = *augs;
	l->held = -1;
	l->epoch = cfg->start_epoch;
	l->resume_pos = cfg->start_pos;
	l->next_plan = l->next_deliver = cfg->start_number;
	l->max_side = aug_list_max_size(&l->augs, cfg->size);
	if (sampler == NULL) {
		struct sampler_config sc;

		sampler_config_default(&sc, SAMPLER_SEQUENTIAL);
		if ((l->own_sampler = sampler_new(ds, &sc, NULL)) == NULL)
			goto fail;
		sampler = l->own_sampler;
	}
	l->sampler = sampler;
	l->nslots = l->cfg.ring;
	l->slots = calloc((size_t)l->nslots, sizeof *l->slots);
	if (l->slots == NULL)
		goto nomem;
	for (int k = 0; k < l->nslots; k++) {
		struct slot *s = &l->slots[k];
		const size_t B = cfg->batch, M = (size_t)l->cfg.max_boxes;

		s->b.max_boxes = l->cfg.max_boxes;
		s->b.images = malloc(sizeof(float) * B * 3 * (size_t)l->max_side * l->max_side);
		s->b.boxes = calloc(B * M * 4, sizeof(float));
		s->b.classes = calloc(B * M, sizeof(int32_t));
		s->b.counts = calloc(B, sizeof(int));
		s->b.indices = calloc(B, sizeof(size_t));
		s->b.transform = calloc(B * 4, sizeof(float));
		s->ok = calloc(B, 1);
		if (!s->b.images || !s->b.boxes || !s->b.classes || !s->b.counts || !s->b.indices || !s->b.transform || !s->ok)
			goto nomem;
	}
	l->threads = calloc((size_t)cfg->workers, sizeof(pthread_t));
	if (l->threads == NULL)
		goto nomem;
	for (int t = 0; t < cfg->workers; t++) {
		if (pthread_create(&l->threads[t], NULL, worker_main, l) != 0) {
			det_error_set(DET_ENOMEM, "loader: can't start worker thread %d", t);
			goto fail;
		}
		l->nthreads++;
	}
	return l;
nomem:
	det_error_set(DET_ENOMEM, "out of memory for the loader's batch buffers (%zu x %d x %d)",
		cfg->batch, l->max_side, l->max_side);
fail:
	{
		char msg[512];

		snprintf(msg, sizeof msg, "%s", det_error_message());
		loader_free(l);
		det_error_set(DET_ENOMEM, "%s", msg);
	}
	return NULL;
}

struct loader *loader_new(const struct dataset *ds, const struct sampler *sampler,
	const struct aug_list *augs, size_t batch, int size, int workers, uint64_t seed)
{
	struct loader_config cfg;

	loader_config_default(&cfg);
	cfg.batch = batch;
	cfg.size = size;
	cfg.workers = workers;
	cfg.seed = seed;
	return loader_new_config(ds, sampler, augs, &cfg);
}
