/* fixture.h: reads the golden fixture files of tests/golden/det/ (one array a
 * line: `name count v0 v1 ...`) for the det tests. */
#ifndef DET_TESTS_DET_FIXTURE_H
#define DET_TESTS_DET_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fx_array {
	char name[64];
	size_t n;
	float *v;
};

struct fixture {
	struct fx_array *a;
	size_t n;
};

/* Loads $top_srcdir/tests/golden/det/<file>; NULL (with a message) when missing. */
static inline struct fixture *fx_load(const char *file)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	FILE *fp;
	struct fixture *fx;

	snprintf(path, sizeof(path), "%s/tests/golden/det/%s", top ? top : TOP_SRCDIR, file);
	fp = fopen(path, "r");
	if (fp == NULL) {
		printf("# cannot open fixture %s\n", path);
		return NULL;
	}
	fx = calloc(1, sizeof(*fx));
	for (;;) {
		struct fx_array a;

		if (fscanf(fp, "%63s %zu", a.name, &a.n) != 2)
			break;
		a.v = malloc((a.n + 1) * sizeof(float));
		for (size_t i = 0; i < a.n; i++) {
			char tok[64];

			if (fscanf(fp, "%63s", tok) != 1)
				break;
			a.v[i] = strtof(tok, NULL);
		}
		fx->a = realloc(fx->a, (fx->n + 1) * sizeof(*fx->a));
		fx->a[fx->n++] = a;
	}
	fclose(fp);
	return fx;
}

/* The array called name (its length in *n), or NULL. */
static inline float *fx_get(const struct fixture *fx, const char *name, size_t *n)
{
	for (size_t i = 0; fx && i < fx->n; i++)
		if (strcmp(fx->a[i].name, name) == 0) {
			if (n)
				*n = fx->a[i].n;
			return fx->a[i].v;
		}
	printf("# fixture has no array %s\n", name);
	if (n)
		*n = 0;
	return NULL;
}

static inline void fx_free(struct fixture *fx)
{
	for (size_t i = 0; fx && i < fx->n; i++)
		free(fx->a[i].v);
	if (fx)
		free(fx->a);
	free(fx);
}

/* Largest |a - b| / (atol + rtol |b|) over n values; NaN matches NaN only. */
static inline double fx_worst(const float *a, const float *b, size_t n, double rtol, double atol)
{
	double worst = 0;

	for (size_t i = 0; i < n; i++) {
		double d;

		if (b[i] != b[i] || a[i] != a[i]) {
			if (!(a[i] != a[i] && b[i] != b[i]))
				return 1e30;
			continue;
		}
		d = fabs((double)a[i] - b[i]) / (atol + rtol * fabs((double)b[i]));
		if (d > worst)
			worst = d;
	}
	return worst;
}

#endif
