/* tiny_head.h: the detector tests' fixture — a two-level head (strides 8
 * and 16 on a 32x32 input) whose cls / box / quality outputs are 1x1 convs
 * of an (NB, 4, H, W) input per level, and the detector_config that reads
 * it. The including test defines NB, IMG and NC first. Static functions:
 * include it in one file of a test program. */
#ifndef DETBENCH_TESTS_DET_TINY_HEAD_H
#define DETBENCH_TESTS_DET_TINY_HEAD_H

#include <math.h>
#include <stdio.h>

#include "det/detector.h"
#include "nn/graph.h"

struct tiny {
	struct nn_graph *g;
	int input;
	int out[2][3]; /* per level: cls, box, quality */
};

/* outputs of level l (stride 8 << l): 1x1 convs of an (NB, 4, H, W) input */
/* bad_cls: level 1's cls output gets one channel too many (a misfit head) */
static int tiny_build(struct tiny *t, int A, int quality, int bad_cls)
{
	struct tensor_init_spec nrm = { TENSOR_INIT_NORMAL, 0, 1 };
	char name[64];

	t->g = nn_graph_new(NULL, 7);
	for (int l = 0; l < 2; l++) {
		const int h = IMG / (8 << l);
		int64_t xs[4] = { NB, 4, h, h };
		int x, cout[3] = { A * NC + (bad_cls && l == 1), A * 4, A };

		snprintf(name, sizeof(name), "x%d", l);
		x = nn_graph_input(t->g, name, 4, xs);
		if (l == 0)
			t->input = x;
		for (int k = 0; k < 3; k++) {
			int64_t ws[4] = { cout[k], 4, 1, 1 };
			int w, y;

			t->out[l][k] = -1;
			if (k == 2 && !quality)
				continue;
			snprintf(name, sizeof(name), "w%d_%d", l, k);
			w = nn_graph_param(t->g, name, 4, ws, &nrm, 0);
			snprintf(name, sizeof(name), "head.p%d.%s", l + 3, k == 0 ? "cls" : k == 1 ? "box" : "quality");
			y = nn_graph_conv2d(t->g, name, x, w, -1, 1, 0, 1, 1);
			if (y < 0)
				return y;
			nn_graph_output(t->g, y);
			t->out[l][k] = y;
		}
	}
	return nn_graph_forward(t->g);
}

static void tiny_config(struct detector_config *c, const struct tiny *t, enum detector_kind kind, int A)
{
	detector_config_default(c, kind);
	c->classes = NC;
	c->anchors = A;
	c->nlevels = 2;
	c->input = t->input;
	for (int l = 0; l < 2; l++) {
		struct detector_level *lv = &c->levels[l];
		const float size = 12.f * (1 << l);

		lv->level = l + 3;
		lv->stride = (float)(8 << l);
		lv->cls = t->out[l][0];
		lv->box = t->out[l][1];
		lv->quality = t->out[l][2];
		lv->range[0] = l == 0 ? -1 : 16;
		lv->range[1] = l == 0 ? 16 : INFINITY;
		for (int a = 0; a < A; a++) {
			const float r = a == 0 ? 1.f : a == 1 ? 0.5f : 2.f, w = size / sqrtf(r), h = size * sqrtf(r);
			lv->anchors[4 * a] = -w / 2, lv->anchors[4 * a + 1] = -h / 2;
			lv->anchors[4 * a + 2] = w / 2, lv->anchors[4 * a + 3] = h / 2;
		}
	}
}

#endif
