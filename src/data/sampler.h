/* sampler.h: which images an epoch visits, in which order. A sampler is
 * built once for a dataset (its class statistics and weights computed then,
 * on the caller's thread) and answers sampler_epoch(seed, epoch) with an
 * index list that depends on nothing but (seed, epoch).
 *
 *   sequential     0, 1, ..., n-1
 *   shuffle        a permutation per epoch (Fisher-Yates)
 *   repeat_factor  LVIS (Gupta et al. 2019): f(c) = fraction of images
 *                  containing class c, r(c) = max(1, sqrt(t / f(c))),
 *                  r(image) = max over its classes (1 with no boxes); each
 *                  epoch repeats image i floor(r) times plus once more with
 *                  probability r - floor(r) (detectron2's stochastic
 *                  rounding), then shuffles
 *   class_aware    (Shen et al. 2016) each draw picks a class uniformly
 *                  among classes with images, then an image containing it
 *   weights        draws with replacement, P(i) = w_i / sum w (torch's
 *                  WeightedRandomSampler); the weights come from the caller */
#ifndef DET_DATA_SAMPLER_H
#define DET_DATA_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

struct dataset;

enum sampler_kind { SAMPLER_SEQUENTIAL, SAMPLER_SHUFFLE, SAMPLER_REPEAT_FACTOR, SAMPLER_CLASS_AWARE, SAMPLER_WEIGHTS };

struct sampler_config {
	enum sampler_kind kind;
	float threshold;    /* repeat_factor: t (LVIS uses 0.001; default 0.1 here) */
	int shuffle;        /* repeat_factor: shuffle the repeated list (default 1) */
	size_t num_samples; /* class_aware, weights: draws per epoch (0: the dataset's size) */
};

struct sampler;

void sampler_config_default(struct sampler_config *cfg, enum sampler_kind kind);
/* Builds a sampler for ds (borrowed only during the call). weights: nimages
 * values >= 0 for SAMPLER_WEIGHTS (copied), else NULL. NULL on error with a
 * message (empty dataset, bad weights naming the image). */
struct sampler *sampler_new(const struct dataset *ds, const struct sampler_config *cfg, const float *weights);
void sampler_free(struct sampler *s);
enum sampler_kind sampler_kind(const struct sampler *s);
const char *sampler_kind_name(enum sampler_kind k);
/* The index list of one epoch: *order (malloc'd, caller frees) and *n.
 * Thread-safe (the sampler is read-only). 0 or DET_ENOMEM. */
int sampler_epoch(const struct sampler *s, uint64_t seed, int64_t epoch, size_t **order, size_t *n);
/* repeat_factor: image i's r; 1 for other kinds. */
float sampler_repeat_factor(const struct sampler *s, size_t i);
/* repeat_factor: class c's r(c) (0 if the class has no images). */
float sampler_class_repeat_factor(const struct sampler *s, int c);
/* The expected share of draws that pick image i (1/n for sequential and
 * shuffle, r_i / sum r for repeat_factor, the class_aware and weights
 * formulas otherwise), for tests and the doctor. */
double sampler_probability(const struct sampler *s, size_t i);
/* Number of images (the dataset's size when built). */
size_t sampler_size(const struct sampler *s);

#endif
