/* test_conv: the conv2d kernels against a direct float64 evaluation of the
 * defining sums (every path: im2col blocks of part of an image or several
 * images, serial plans, 1x1, col2im, stride-1 backward-data as a convolution,
 * groups, depthwise), central finite differences, the accumulate flag,
 * run-to-run bit identity, and the shape errors; then every case again with
 * each path forced (im2col + OpenBLAS, the direct view and panel kernels of
 * conv_simd.h, which also serve backward-data of stride-1 convolutions and
 * backward-weights, and the stacked view that runs backward-data phase by
 * phase), with shapes for their tails: channel counts off the tile sizes, K
 * over the panel's chunk, bands, images per unit, threads sharing
 * backward-weights by taps, odd sizes, padding 0, dilation and strides that
 * leave phases without taps or without pixels. */
#include "core/error.h"
#include "core/rng.h"
#include "core/threads.h"
#include "nn/conv.h"
#include "tests/tap.h"

#include <stdlib.h>
#include <string.h>

static long numel_x(const struct conv2d_shape *s) { return (long)s->n * s->c_in * s->h * s->w; }
static long numel_y(const struct conv2d_shape *s) { return (long)s->n * s->c_out * s->h_out * s->w_out; }
static long numel_w(const struct conv2d_shape *s)
{
	return (long)s->c_out * (s->c_in / s->groups) * s->kh * s->kw;
}

static float *randv(struct rng *r, long n)
{
	float *v = malloc((size_t)n * sizeof *v);

	for (long i = 0; i < n; i++)
		v[i] = (float)(rng_uniform(r) * 2.0 - 1.0);
	return v;
}

/* Calls fn(n, o, c_abs, i, j, iy, ix, widx) for every in-range term of the sum. */
#define FOR_TERMS(s, BODY)                                                         \
	for (int n = 0; n < (s)->n; n++)                                               \
	for (int o = 0; o < (s)->c_out; o++) {                                         \
		int cog_ = (s)->c_out / (s)->groups, cg_ = (s)->c_in / (s)->groups;        \
		int g_ = o / cog_;                                                         \
		for (int i = 0; i < (s)->h_out; i++)                                       \
		for (int j = 0; j < (s)->w_out; j++)                                       \
		for (int c = 0; c < cg_; c++)                                              \
		for (int p = 0; p < (s)->kh; p++)                                          \
		for (int q = 0; q < (s)->kw; q++) {                                        \
			int iy = i * (s)->stride_h - (s)->pad_h + p * (s)->dil_h;              \
			int ix = j * (s)->stride_w - (s)->pad_w + q * (s)->dil_w;              \
			long xi, wi, yi;                                                       \
			if (iy < 0 || iy >= (s)->h || ix < 0 || ix >= (s)->w)                  \
				continue;                                                          \
			xi = (((long)n * (s)->c_in + g_ * cg_ + c) * (s)->h + iy) * (s)->w + ix; \
			wi = (((long)o * cg_ + c) * (s)->kh + p) * (s)->kw + q;                \
			yi = (((long)n * (s)->c_out + o) * (s)->h_out + i) * (s)->w_out + j;   \
			BODY;                                                                  \
		}                                                                          \
	}

static void ref_all(const struct conv2d_shape *s, const float *x, const float *w, const float *b,
	const float *dy, double *y, double *dx, double *dw, double *db)
{
	long ny = numel_y(s), hwo = (long)s->h_out * s->w_out;

	memset(dx, 0, (size_t)numel_x(s) * sizeof *dx);
	memset(dw, 0, (size_t)numel_w(s) * sizeof *dw);
	for (long k = 0; k < ny; k++)
		y[k] = b ? b[(k / hwo) % s->c_out] : 0.0;
	for (int o = 0; o < s->c_out; o++)
		db[o] = 0;
	for (long k = 0; k < ny; k++)
		db[(k / hwo) % s->c_out] += dy[k];
	FOR_TERMS(s, {
		y[yi] += (double)w[wi] * x[xi];
		dx[xi] += (double)w[wi] * dy[yi];
		dw[wi] += (double)dy[yi] * x[xi];
	});
}

/* max |a - b| / max |b| */
static double rel_err(const float *a, const double *b, long n)
{
	double num = 0, den = 0;

	for (long i = 0; i < n; i++) {
		double d = fabs(a[i] - b[i]);

		if (d > num || d != d)
			num = d;
		if (fabs(b[i]) > den)
			den = fabs(b[i]);
	}
	return den > 0 ? num / den : num;
}

struct kcase {
	const char *name;
	struct conv2d_shape s;
	int bias;
};

static struct conv2d_shape shp(int n, int c, int h, int w, int co, int kh, int kw, int sh,
	int sw, int ph, int pw, int dh, int dw, int g)
{
	struct conv2d_shape s = { n, c, h, w, co, kh, kw, sh, sw, ph, pw, dh, dw, g, 0, 0 };

	return s;
}

/* When set, ws_new sizes the workspace with this many threads in force and
 * then switches to 3, as a program that calls det_threads_set() later does. */
static int ws_threads;

static float *ws_new(const struct conv2d_shape *s)
{
	size_t bytes = conv2d_workspace_size(s);

	if (ws_threads)
		det_threads_set(3);
	return malloc(bytes ? bytes : sizeof(float));
}

static void check_against_ref(struct rng *r, const struct kcase *k)
{
	struct conv2d_shape s = k->s;
	long nx, ny, nw;
	float *x, *w, *b, *dy, *y, *dx, *dw, *db, *ws;
	double *ry, *rdx, *rdw, *rdb, e1, e2, e3, e4 = 0;

	if (!ok(conv2d_shape_init(&s) == 0, "%s: shape valid (%s)", k->name, det_error_message()))
		return;
	nx = numel_x(&s), ny = numel_y(&s), nw = numel_w(&s);
	x = randv(r, nx), w = randv(r, nw), b = k->bias ? randv(r, s.c_out) : NULL;
	dy = randv(r, ny);
	y = malloc(ny * 4), dx = malloc(nx * 4), dw = malloc(nw * 4), db = malloc(s.c_out * 4);
	ry = malloc(ny * 8), rdx = malloc(nx * 8), rdw = malloc(nw * 8), rdb = malloc(s.c_out * 8);
	ws = ws_new(&s);
	ref_all(&s, x, w, b, dy, ry, rdx, rdw, rdb);
	conv2d_forward(&s, x, w, b, y, ws);
	conv2d_backward_data(&s, dy, w, dx, 0, ws);
	conv2d_backward_weights(&s, x, dy, dw, k->bias ? db : NULL, 0, ws);
	e1 = rel_err(y, ry, ny), e2 = rel_err(dx, rdx, nx), e3 = rel_err(dw, rdw, nw);
	if (k->bias)
		e4 = rel_err(db, rdb, s.c_out);
	ok(e1 < 1e-5 && e2 < 1e-5 && e3 < 1e-5 && e4 < 1e-5,
		"%s: y dx dw db match float64 sums (max|a-b|/max|b| = %.1e %.1e %.1e %.1e)",
		k->name, e1, e2, e3, e4);

	/* accumulate adds into what is there */
	{
		float *ax = randv(r, nx), *aw = randv(r, nw), *ab = randv(r, s.c_out);
		double *ex = malloc(nx * 8), *ew = malloc(nw * 8), *eb = malloc(s.c_out * 8);

		for (long i = 0; i < nx; i++)
			ex[i] = ax[i] + rdx[i];
		for (long i = 0; i < nw; i++)
			ew[i] = aw[i] + rdw[i];
		for (int i = 0; i < s.c_out; i++)
			eb[i] = ab[i] + rdb[i];
		conv2d_backward_data(&s, dy, w, ax, 1, ws);
		conv2d_backward_weights(&s, x, dy, aw, ab, 1, ws);
		e1 = rel_err(ax, ex, nx), e2 = rel_err(aw, ew, nw), e3 = rel_err(ab, eb, s.c_out);
		ok(e1 < 1e-5 && e2 < 1e-5 && e3 < 1e-5,
			"%s: accumulate adds to dx dw db (%.1e %.1e %.1e)", k->name, e1, e2, e3);
		free(ax), free(aw), free(ab), free(ex), free(ew), free(eb);
	}
	free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
	free(ry), free(rdx), free(rdw), free(rdb), free(ws);
}

/* L = sum(y * r). Central differences of L in float32 for dx, dw, db.
 * conv is linear in x, in w and in b, so the central difference has no
 * truncation error at any step; eps = 0.25 keeps the float32 rounding of L
 * (about 1e-7 * sum|y*r|) small after division by 2*eps. Tolerance: 1e-3
 * of the largest gradient component. */
static double loss(const struct conv2d_shape *s, const float *x, const float *w,
	const float *b, const float *rr, float *y, float *ws)
{
	double l = 0;

	conv2d_forward(s, x, w, b, y, ws);
	for (long i = 0; i < numel_y(s); i++)
		l += (double)y[i] * rr[i];
	return l;
}

static double fd_check(const struct conv2d_shape *s, float *x, float *w, float *b,
	const float *rr, float *y, float *ws, float *v, long n, const float *grad)
{
	const float eps = 0.25f;
	double worst = 0, big = 0;

	for (long i = 0; i < n; i++) {
		float keep = v[i];
		double lp, lm, num;

		v[i] = keep + eps;
		lp = loss(s, x, w, b, rr, y, ws);
		v[i] = keep - eps;
		lm = loss(s, x, w, b, rr, y, ws);
		v[i] = keep;
		num = (lp - lm) / (2.0 * eps);
		if (fabs(num - grad[i]) > worst)
			worst = fabs(num - grad[i]);
		if (fabs(grad[i]) > big)
			big = fabs(grad[i]);
	}
	return worst / (big > 0 ? big : 1);
}

static void gradcheck(struct rng *r, const char *name, struct conv2d_shape s)
{
	long nx, ny, nw;
	float *x, *w, *b, *rr, *y, *dx, *dw, *db, *ws;
	double ex, ew, eb, ebad;

	conv2d_shape_init(&s);
	nx = numel_x(&s), ny = numel_y(&s), nw = numel_w(&s);
	x = randv(r, nx), w = randv(r, nw), b = randv(r, s.c_out), rr = randv(r, ny);
	y = malloc(ny * 4), dx = malloc(nx * 4), dw = malloc(nw * 4), db = malloc(s.c_out * 4);
	ws = ws_new(&s);
	conv2d_backward_data(&s, rr, w, dx, 0, ws);
	conv2d_backward_weights(&s, x, rr, dw, db, 0, ws);
	ex = fd_check(&s, x, w, b, rr, y, ws, x, nx, dx);
	ew = fd_check(&s, x, w, b, rr, y, ws, w, nw, dw);
	eb = fd_check(&s, x, w, b, rr, y, ws, b, s.c_out, db);
	ok(ex < 1e-3 && ew < 1e-3 && eb < 1e-3,
		"%s: dx dw db agree with central differences (%.1e %.1e %.1e of max|grad|)",
		name, ex, ew, eb);
	/* the checker catches a gradient that is wrong in one component by 1% of the largest */
	{
		float big = 0;

		for (long i = 0; i < nw; i++)
			big = fabsf(dw[i]) > big ? fabsf(dw[i]) : big;
		dw[nw / 2] += 0.01f * big;
		ebad = fd_check(&s, x, w, b, rr, y, ws, w, nw, dw);
		ok(ebad > 1e-3, "%s: the check fails on a dw wrong by 1%% in one component (%.1e)",
			name, ebad);
	}
	free(x), free(w), free(b), free(rr), free(y), free(dx), free(dw), free(db), free(ws);
}

static void determinism(struct rng *r, const char *name, struct conv2d_shape s)
{
	long nx, ny, nw;
	float *x, *w, *b, *dy, *ws, *out[2][4];

	conv2d_shape_init(&s);
	nx = numel_x(&s), ny = numel_y(&s), nw = numel_w(&s);
	x = randv(r, nx), w = randv(r, nw), b = randv(r, s.c_out), dy = randv(r, ny);
	ws = ws_new(&s);
	for (int k = 0; k < 2; k++) {
		out[k][0] = malloc(ny * 4), out[k][1] = malloc(nx * 4);
		out[k][2] = malloc(nw * 4), out[k][3] = malloc(s.c_out * 4);
		conv2d_forward(&s, x, w, b, out[k][0], ws);
		conv2d_backward_data(&s, dy, w, out[k][1], 0, ws);
		conv2d_backward_weights(&s, x, dy, out[k][2], out[k][3], 0, ws);
	}
	ok(!memcmp(out[0][0], out[1][0], ny * 4) && !memcmp(out[0][1], out[1][1], nx * 4) &&
		!memcmp(out[0][2], out[1][2], nw * 4) && !memcmp(out[0][3], out[1][3], s.c_out * 4),
		"%s: two runs on %d threads are bit-identical", name, det_threads_get());
	for (int k = 0; k < 2; k++)
		for (int j = 0; j < 4; j++)
			free(out[k][j]);
	free(x), free(w), free(b), free(dy), free(ws);
}

/* The direct kernels compute every output of forward and backward-data as
 * one sum over the taps in order, whichever thread or block runs it: the
 * bits are the same on 1 and 3 threads. */
static void thread_independent(struct rng *r, const char *name, struct conv2d_shape s)
{
	long nx, ny, nw;
	float *x, *w, *dy, *ws, *y[2], *dx[2];

	conv2d_shape_init(&s);
	nx = numel_x(&s), ny = numel_y(&s), nw = numel_w(&s);
	x = randv(r, nx), w = randv(r, nw), dy = randv(r, ny);
	ws = ws_new(&s);
	for (int k = 0; k < 2; k++) {
		det_threads_set(k == 0 ? 1 : 3);
		y[k] = malloc(ny * 4), dx[k] = malloc(nx * 4);
		conv2d_forward(&s, x, w, NULL, y[k], ws);
		conv2d_backward_data(&s, dy, w, dx[k], 0, ws);
	}
	ok(!memcmp(y[0], y[1], ny * 4) && !memcmp(dx[0], dx[1], nx * 4),
		"%s: y and dx bit-identical on 1 and 3 threads", name);
	for (int k = 0; k < 2; k++)
		free(y[k]), free(dx[k]);
	free(x), free(w), free(dy), free(ws);
}

static void shape_error(struct conv2d_shape s, const char *want)
{
	int rc = conv2d_shape_init(&s);

	ok(rc == DET_EINVAL && strstr(det_error_message(), want),
		"invalid shape rejected: \"%s\"", det_error_message());
}

int main(void)
{
	struct rng rng;
	/* name, n c h w, c_out kh kw, stride, pad, dilation, groups, bias */
	struct kcase cases[] = {
		{ "3x3 pad 1", shp(2, 5, 9, 11, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "3x3 pad 1, one image split into blocks", shp(1, 4, 13, 7, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "3x3 stride 2 (col2im)", shp(3, 4, 11, 10, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
		{ "3x3 stride 2, one image (serial col2im plan)", shp(1, 6, 15, 13, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
		{ "3x3 on a 1x1 map, one image (serial plan)", shp(1, 8, 1, 1, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "7x7/2 stem", shp(2, 3, 23, 19, 8, 7, 7, 2, 2, 3, 3, 1, 1, 1), 1 },
		{ "1x1 pointwise", shp(3, 6, 5, 7, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1), 1 },
		{ "1x1 stride 2", shp(2, 6, 9, 8, 5, 1, 1, 2, 2, 0, 0, 1, 1, 1), 0 },
		{ "dilation 2", shp(2, 4, 12, 13, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1), 1 },
		{ "groups 2", shp(2, 6, 8, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2), 1 },
		{ "groups 4 stride 2", shp(2, 8, 9, 9, 12, 3, 3, 2, 2, 1, 1, 1, 1, 4), 1 },
		{ "depthwise 3x3", shp(2, 6, 10, 9, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6), 1 },
		{ "depthwise 3x3 stride 2", shp(2, 5, 11, 12, 5, 3, 3, 2, 2, 1, 1, 1, 1, 5), 1 },
		{ "depthwise 3x3 dilation 2, no bias", shp(2, 4, 9, 12, 4, 3, 3, 1, 1, 2, 2, 2, 2, 4), 0 },
		{ "depthwise 3x3 pad 0 stride 2", shp(3, 4, 9, 10, 4, 3, 3, 2, 2, 0, 0, 1, 1, 4), 1 },
		{ "depthwise 5x3 dilation 2 stride 2x1", shp(2, 3, 13, 11, 3, 5, 3, 2, 1, 4, 1, 2, 1, 3), 0 },
		{ "channel multiplier 2 (groups = C_in)", shp(2, 3, 7, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 3), 1 },
		{ "non-square 3x5, H != W, no bias", shp(2, 4, 10, 15, 5, 3, 5, 1, 1, 1, 2, 1, 1, 1), 0 },
		{ "pad larger than kernel reach (col2im)", shp(2, 3, 6, 6, 4, 3, 3, 1, 1, 3, 3, 1, 1, 1), 1 },
		{ "unpadded 3x3 stride 3x2", shp(2, 4, 14, 11, 3, 3, 3, 3, 2, 0, 0, 1, 1, 1), 1 },
		{ "1x1 pad 1", shp(2, 3, 5, 6, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "small maps, several images per block", shp(9, 16, 4, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "pointwise small maps, one block per image", shp(9, 16, 3, 3, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1), 1 },
		{ "large map, several blocks per image", shp(2, 32, 39, 41, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "pointwise large map, several blocks per image", shp(1, 64, 61, 69, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1), 1 },
		{ "wide map, blocks that split output rows", shp(1, 64, 3, 1500, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "3x3/2 large map, several blocks per image (col2im)", shp(2, 32, 79, 81, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
		/* few output channels: backward-weights with the pixels on the lanes */
		{ "few channels: 128 -> 6 on 9x7 maps, 5 images (images stacked)",
			shp(5, 128, 9, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "few channels: 1 output channel on odd 13x11 maps",
			shp(3, 8, 13, 11, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "few channels: 5 outputs, 3x3/2 on odd 17x15 maps",
			shp(3, 12, 17, 15, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
		{ "few channels: 16 outputs (tiles of 6, 6, 4), dilation 2, no bias",
			shp(2, 10, 15, 19, 16, 3, 3, 1, 1, 2, 2, 2, 2, 1), 0 },
		{ "few channels: 5 outputs, 64 channels of 70x70 (bands of rows)",
			shp(1, 64, 70, 70, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "few channels: 6 outputs, 3x3/2 on 90x91, 32 channels (bands of phase planes)",
			shp(1, 32, 90, 91, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
		{ "few channels: 5x5 pad 2 on 2x2 maps, 7 images, 20 -> 6",
			shp(7, 20, 2, 2, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1), 1 },
		{ "few channels: 1x3 kernel pad 0x1 stride 1x2 on a 1-row map, 3 -> 2",
			shp(4, 3, 1, 9, 2, 1, 3, 1, 2, 0, 1, 1, 1, 1), 1 },
		/* maps 4 wide and under: the panel under auto from 32*W_out channels */
		{ "96 -> 6 on 2x3 maps, 5 images (backward-data on the panel)",
			shp(5, 96, 2, 3, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		{ "64 -> 80 on 2x2 maps, 3 images (forward and backward-data on the panel)",
			shp(3, 64, 2, 2, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1), 0 },
	};
	int threads[] = { 1, 2, 3 };

	/* let the kernels use up to 3 threads on any machine (the cap is read once) */
	setenv("DETBENCH_THREADS", "3", 1);
	rng_init(&rng, 42, 1);
	for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
		det_threads_set(threads[t]);
		tap_diag("%d threads", det_threads_get());
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
			check_against_ref(&rng, &cases[i]);
	}
	det_threads_set(2);
	gradcheck(&rng, "3x3 pad 1", shp(2, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1));
	gradcheck(&rng, "3x3 stride 2 dilation 2 groups 2", shp(2, 4, 9, 8, 6, 3, 3, 2, 2, 2, 1, 2, 2, 2));
	gradcheck(&rng, "depthwise 3x3 stride 2", shp(2, 4, 7, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1, 4));
	gradcheck(&rng, "1x1", shp(2, 3, 4, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1));
	/* Winograd F(2x2,3x3) forced: forward, backward-data and (AVX-512)
	 * backward-weights by the transforms, odd maps for the half tiles */
	conv2d_kernel_set(CONV2D_KERNEL_WINOGRAD);
	gradcheck(&rng, "3x3 pad 1, Winograd", shp(2, 3, 5, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1));
	gradcheck(&rng, "3x3 pad 0, Winograd", shp(1, 5, 6, 7, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1));
	conv2d_kernel_set(CONV2D_KERNEL_AUTO);
	determinism(&rng, "3x3 8x32x33x35 -> 48", shp(8, 32, 33, 35, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1));
	determinism(&rng, "3x3/2 4x64x8x8 -> 64", shp(4, 64, 8, 8, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1));
	determinism(&rng, "3x3/2 3x16x33x32 -> 24 (backward-data by phases)",
		shp(3, 16, 33, 32, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1));
	determinism(&rng, "3x3 8x128x4x4 -> 6 (a head on a narrow map)",
		shp(8, 128, 4, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1));
	determinism(&rng, "3x3 8x64x19x21 -> 5 (few channels: pixels on the lanes)",
		shp(8, 64, 19, 21, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1));
	determinism(&rng, "depthwise 4x32x20x20", shp(4, 32, 20, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 32));

	/* a workspace sized while 1 thread was in force serves a later 3 */
	{
		struct kcase k[] = {
			{ "3x3 pad 1, workspace sized on 1 thread, run on 3",
				shp(4, 16, 21, 19, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
			{ "3x3/2, workspace sized on 1 thread, run on 3",
				shp(4, 16, 21, 19, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
			{ "3x3/2 backward-data by phases, workspace sized on 1 thread, run on 3",
				shp(2, 16, 33, 32, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
			{ "few channels, workspace sized on 1 thread, run on 3",
				shp(4, 16, 21, 19, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
			{ "depthwise, workspace sized on 1 thread, run on 3",
				shp(4, 16, 21, 19, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16), 1 },
		};

		for (size_t i = 0; i < sizeof k / sizeof *k; i++) {
			det_threads_set(1);
			ws_threads = 1;
			check_against_ref(&rng, &k[i]);
		}
		ws_threads = 0;
		det_threads_set(2);
	}

	/* each path forced; the direct ones fall back to OpenBLAS without SIMD */
	tap_diag("direct kernels: %s", conv2d_kernel_isa());
	{
		struct kcase extra[] = {
			/* Winograd F(2x2, 3x3): odd outputs (half tiles), every padding it takes */
			{ "3x3 pad 0, odd 7x5 output, 13 -> 11",
				shp(2, 13, 9, 7, 11, 3, 3, 1, 1, 0, 0, 1, 1, 1), 1 },
			{ "3x3 pad 2 (output larger than input), 9 -> 10",
				shp(2, 9, 6, 5, 10, 3, 3, 1, 1, 2, 2, 1, 1, 1), 1 },
			{ "3x3, 64 -> 136 on 6x6 maps (Winograd: one group, its output channels split 72 + 64)",
				shp(2, 64, 6, 6, 136, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
			{ "3x3, 136 -> 64 on 7x6 maps (Winograd backward-data: output channels split)",
				shp(2, 136, 7, 6, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), 0 },
			{ "3x3 pad 1x0, 64 -> 72 on 40x38 maps (Winograd: several groups, one splits a tile row)",
				shp(3, 64, 40, 38, 72, 3, 3, 1, 1, 1, 0, 1, 1, 1), 1 },
			{ "K = 432 over the panel's K chunk, 10 channels",
				shp(2, 48, 6, 7, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
			{ "70 output channels (two lane blocks, tails)",
				shp(2, 4, 6, 5, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
			{ "3x3 on 64 channels, 9 images of 4x4",
				shp(9, 64, 4, 4, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), 0 },
			{ "3x3/2 view, odd sizes, 3 bands",
				shp(1, 3, 141, 57, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
			{ "3x3 pad 0, one image, many bands",
				shp(1, 2, 90, 40, 5, 3, 3, 1, 1, 0, 0, 1, 1, 1), 1 },
			{ "5x5 pad 2 stride 1x2",
				shp(2, 3, 11, 13, 6, 5, 5, 1, 2, 2, 2, 1, 1, 1), 1 },
			{ "128 -> 64 channels on 3x3 maps (backward-weights split by taps)",
				shp(2, 128, 3, 3, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
			/* backward-data phase by phase (the stacked view) */
			{ "3x3/2 odd input 33x35, 20 -> 24, phases of 17 and 16",
				shp(3, 20, 33, 35, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
			{ "3x3/2 pad 0, odd input 19x17, 17 -> 9",
				shp(2, 17, 19, 17, 9, 3, 3, 2, 2, 0, 0, 1, 1, 1), 1 },
			{ "3x3/2 dilation 2 pad 2 (odd rows reached by no tap)",
				shp(2, 16, 21, 18, 8, 3, 3, 2, 2, 2, 2, 2, 2, 1), 1 },
			{ "5x3 stride 3x2 pad 2x1, 24 -> 10",
				shp(2, 24, 23, 20, 10, 5, 3, 3, 2, 2, 1, 1, 1, 1), 0 },
			{ "4x4/2 pad 1 (every phase 2x2 taps), 16 -> 16",
				shp(3, 16, 18, 16, 16, 4, 4, 2, 2, 1, 1, 1, 1, 1), 1 },
			{ "3x3/2 on 34x34 maps, 24 -> 40, 9 images (bands across images)",
				shp(9, 24, 34, 34, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1), 0 },
			{ "1x1/2 on odd maps, 20 -> 12 (three phases without taps)",
				shp(2, 20, 13, 11, 12, 1, 1, 2, 2, 0, 0, 1, 1, 1), 1 },
			{ "3x3/2 on a 2x1 map (phases that do not exist)",
				shp(2, 16, 2, 1, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1), 1 },
			{ "128 -> 6 on 5x4 maps (a head: view, backward-weights on idle lanes)",
				shp(3, 128, 5, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1), 1 },
		};
		enum conv2d_kernel kern[] = { CONV2D_KERNEL_BLAS, CONV2D_KERNEL_VIEW, CONV2D_KERNEL_PANEL,
			CONV2D_KERNEL_STACKED, CONV2D_KERNEL_FEW, CONV2D_KERNEL_WINOGRAD };
		const char *kname[] = { "blas", "view", "panel", "stacked", "few", "winograd" };

		for (size_t m = 0; m < sizeof kern / sizeof *kern; m++) {
			conv2d_kernel_set(kern[m]);
			det_threads_set(m % 2 ? 3 : 2);
			tap_diag("%s kernels forced, %d threads", kname[m], det_threads_get());
			for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
				check_against_ref(&rng, &cases[i]);
			for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
				check_against_ref(&rng, &extra[i]);
			determinism(&rng, kname[m], shp(8, 32, 33, 35, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1));
			if (kern[m] != CONV2D_KERNEL_BLAS && strcmp(conv2d_kernel_isa(), "none")) {
				thread_independent(&rng, kname[m], shp(4, 24, 19, 30, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1));
				thread_independent(&rng, "3x3/2 backward-data by phases",
					shp(5, 32, 37, 35, 24, 3, 3, 2, 2, 1, 1, 1, 1, 1));
			}
			det_threads_set(m % 2 ? 3 : 2);
		}
		conv2d_kernel_set(CONV2D_KERNEL_AUTO);
		det_threads_set(1);
		for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
			check_against_ref(&rng, &extra[i]);
		det_threads_set(2);
	}

	shape_error(shp(1, 30, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 4), "input channels 30 not divisible by groups 4");
	shape_error(shp(1, 8, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 4), "output channels 6 not divisible by groups 4");
	shape_error(shp(1, 3, 5, 5, 8, 7, 7, 1, 1, 0, 0, 1, 1, 1), "larger than the padded input 5x5");
	shape_error(shp(1, 3, 5, 5, 8, 3, 3, 0, 1, 0, 0, 1, 1, 1), "stride 0x1 must be positive");
	shape_error(shp(1, 3, 5, 5, 8, 3, 3, 1, 1, -1, 0, 1, 1, 1), "padding -1x0 must not be negative");
	shape_error(shp(0, 3, 5, 5, 8, 3, 3, 1, 1, 0, 0, 1, 1, 1), "input shape 0x3x5x5");
	{
		struct conv2d_shape s = shp(2, 3, 10, 12, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1);

		conv2d_shape_init(&s);
		ok(s.h_out == 5 && s.w_out == 6 && conv2d_flops(&s) == 2.0 * 2 * 4 * 5 * 6 * 3 * 9,
			"output size %dx%d and FLOPs %.0f", s.h_out, s.w_out, conv2d_flops(&s));
	}
	return tap_done();
}
