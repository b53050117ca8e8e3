/* test_conv_golden: conv2d forward, backward-data, backward-weights and the
 * bias gradient against PyTorch 1.13 on the fixtures that
 * tests/golden/conv/gen_conv.py wrote (every variant: 3x3, stride 2, 7x7/2
 * stem, 1x1 and 1x1/2, dilation, groups 2 and 4, depthwise /1 and /2, no
 * bias, non-square kernels on H != W). Tolerance, per tensor:
 * max |ours - torch| / max |torch| <= 1e-5. Run on 1 and 2 threads, with
 * the kernels chosen per shape and with each path forced (im2col +
 * OpenBLAS, the direct view and panel micro-kernels, the stacked view). */
#include "core/error.h"
#include "core/threads.h"
#include "nn/conv.h"
#include "tests/tap.h"

#include <stdlib.h>
#include <string.h>

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static double rel_err(const float *a, const float *b, long n)
{
	double num = 0, den = 0;

	for (long i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);

		if (d > num || d != d)
			num = d;
		if (fabs(b[i]) > den)
			den = fabs(b[i]);
	}
	return den > 0 ? num / den : num;
}

static float *take(FILE *f, long n)
{
	float *v = malloc((size_t)n * sizeof *v);

	if (fread(v, sizeof *v, (size_t)n, f) != (size_t)n) {
		free(v);
		return NULL;
	}
	return v;
}

static int run_case(FILE *bin, const char *name, struct conv2d_shape *s, int bias)
{
	long nx = (long)s->n * s->c_in * s->h * s->w, ny, nw;
	float *x, *w, *b = NULL, *dy, *ty, *tdx, *tdw, *tdb = NULL, *y, *dx, *dw, *db, *ws;
	double e[4] = { 0, 0, 0, 0 };

	if (!ok(conv2d_shape_init(s) == 0, "%s: shape valid %s", name, det_error_message()))
		return -1;
	ny = (long)s->n * s->c_out * s->h_out * s->w_out;
	nw = (long)s->c_out * (s->c_in / s->groups) * s->kh * s->kw;
	x = take(bin, nx), w = take(bin, nw);
	if (bias)
		b = take(bin, s->c_out);
	dy = take(bin, ny), ty = take(bin, ny), tdx = take(bin, nx), tdw = take(bin, nw);
	if (bias)
		tdb = take(bin, s->c_out);
	if (!ok(x && w && dy && ty && tdx && tdw && (!bias || (b && tdb)), "%s: fixture read", name))
		return -1;
	y = malloc(ny * 4), dx = malloc(nx * 4), dw = malloc(nw * 4), db = malloc(s->c_out * 4);
	for (int kern = 0; kern < 8; kern++)
	for (int threads = 1; threads <= 2; threads++) {
		static const char *kname[] = { "auto", "blas", "view", "panel", "stacked", "few", "winograd",
			"direct" };

		conv2d_kernel_set((enum conv2d_kernel)kern);
		ws = malloc(conv2d_workspace_size(s) + 4);
		det_threads_set(threads);
		conv2d_forward(s, x, w, b, y, ws);
		conv2d_backward_data(s, dy, w, dx, 0, ws);
		conv2d_backward_weights(s, x, dy, dw, bias ? db : NULL, 0, ws);
		e[0] = rel_err(y, ty, ny), e[1] = rel_err(dx, tdx, nx), e[2] = rel_err(dw, tdw, nw);
		e[3] = bias ? rel_err(db, tdb, s->c_out) : 0;
		ok(e[0] <= 1e-5 && e[1] <= 1e-5 && e[2] <= 1e-5 && e[3] <= 1e-5,
			"%s, %s kernels, %d thread%s: y dx dw db match PyTorch (max|a-b|/max|b| = %.1e %.1e %.1e %.1e)",
			name, kname[kern], threads, threads > 1 ? "s" : "", e[0], e[1], e[2], e[3]);
		free(ws);
	}
	conv2d_kernel_set(CONV2D_KERNEL_AUTO);
	free(x), free(w), free(b), free(dy), free(ty), free(tdx), free(tdw), free(tdb);
	free(y), free(dx), free(dw), free(db);
	return 0;
}

int main(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], line[512];
	FILE *idx, *bin;
	int cases = 0;

	snprintf(path, sizeof path, "%s/tests/golden/conv/index.txt", top ? top : TOP_SRCDIR);
	idx = fopen(path, "r");
	snprintf(path, sizeof path, "%s/tests/golden/conv/conv.bin", top ? top : TOP_SRCDIR);
	bin = fopen(path, "rb");
	if (!ok(idx && bin, "fixtures open (%s)", path))
		return tap_done();
	while (fgets(line, sizeof line, idx)) {
		struct conv2d_shape s;
		char name[128];
		int bias;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%127s %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", name, &s.n,
			&s.c_in, &s.h, &s.w, &s.c_out, &s.kh, &s.kw, &s.stride_h, &s.stride_w, &s.pad_h,
			&s.pad_w, &s.dil_h, &s.dil_w, &s.groups, &bias) != 16) {
			ok(0, "index line parses: %s", line);
			break;
		}
		if (run_case(bin, name, &s, bias))
			break;
		cases++;
	}
	ok(cases == 19 && fgetc(bin) == EOF, "all %d cases read, nothing left over", cases);
	fclose(idx);
	fclose(bin);
	return tap_done();
}
