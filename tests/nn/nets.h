/* nets.h: ResNet (He et al. 2016) graphs built straight from C, for the
 * graph tests and the ResNet-18 benchmark: conv-bn-relu blocks with the
 * parameter names torchvision uses (conv1.weight, layer1.0.bn1.bias, ...). */
#ifndef DET_TESTS_NN_NETS_H
#define DET_TESTS_NN_NETS_H

#include <stdio.h>

#include "nn/graph.h"

/* conv (no bias) + batch norm [+ ReLU]; returns the last node or < 0. */
static int net_conv_bn(struct nn_graph *g, const char *conv, const char *bn, int x, int cin, int cout,
	int k, int stride, int relu)
{
	char name[256];
	int64_t ws[4] = { cout, cin, k, k }, cs[1] = { cout };
	struct tensor_init_spec he = { TENSOR_INIT_KAIMING_NORMAL, 1.41421356f, 1 };
	struct tensor_init_spec one = { TENSOR_INIT_CONSTANT, 1, 0 }, zero = { TENSOR_INIT_CONSTANT, 0, 0 };
	int w, gm, bt, y;

	snprintf(name, sizeof(name), "%s.weight", conv);
	if ((w = nn_graph_param(g, name, 4, ws, &he, 0)) < 0)
		return w;
	if ((y = nn_graph_conv2d(g, conv, x, w, -1, stride, k / 2, 1, 1)) < 0)
		return y;
	snprintf(name, sizeof(name), "%s.weight", bn);
	gm = nn_graph_param(g, name, 1, cs, &one, NN_PARAM_NORM);
	snprintf(name, sizeof(name), "%s.bias", bn);
	bt = nn_graph_param(g, name, 1, cs, &zero, NN_PARAM_NORM);
	if ((y = nn_graph_batchnorm(g, bn, y, gm, bt, 1e-5f, 0.1f)) < 0 || !relu)
		return y;
	snprintf(name, sizeof(name), "%s.relu", bn);
	return nn_graph_unary(g, NN_OP_RELU, name, y);
}

/* A basic block: two 3x3 conv-bn, a projection shortcut when the shape changes. */
static int net_basic_block(struct nn_graph *g, const char *pre, int x, int cin, int cout, int stride)
{
	char c1[200], b1[200], c2[200], b2[200], name[220];
	int y, sc = x;

	snprintf(c1, sizeof(c1), "%s.conv1", pre);
	snprintf(b1, sizeof(b1), "%s.bn1", pre);
	snprintf(c2, sizeof(c2), "%s.conv2", pre);
	snprintf(b2, sizeof(b2), "%s.bn2", pre);
	if ((y = net_conv_bn(g, c1, b1, x, cin, cout, 3, stride, 1)) < 0)
		return y;
	if ((y = net_conv_bn(g, c2, b2, y, cout, cout, 3, 1, 0)) < 0)
		return y;
	if (stride != 1 || cin != cout) {
		snprintf(c1, sizeof(c1), "%s.downsample.0", pre);
		snprintf(b1, sizeof(b1), "%s.downsample.1", pre);
		if ((sc = net_conv_bn(g, c1, b1, x, cin, cout, 1, stride, 0)) < 0)
			return sc;
	}
	snprintf(name, sizeof(name), "%s.add", pre);
	if ((y = nn_graph_binary(g, NN_OP_ADD, name, y, sc)) < 0)
		return y;
	snprintf(name, sizeof(name), "%s.relu", pre);
	return nn_graph_unary(g, NN_OP_RELU, name, y);
}

/* ResNet with basic blocks: blocks[4] per stage (2,2,2,2 = ResNet-18),
 * base width w (64 in the paper); input "input" (n, 3, hw, hw); output the
 * global-average-pooled features (n, 8w, 1, 1). Returns the output node. */
static int net_resnet(struct nn_graph *g, int n, int hw, int w, const int *blocks, int *input)
{
	int64_t shape[4] = { n, 3, hw, hw };
	int x, cin = w;
	char pre[64];

	if ((x = *input = nn_graph_input(g, "input", 4, shape)) < 0)
		return x;
	if ((x = net_conv_bn(g, "conv1", "bn1", x, 3, w, 7, 2, 1)) < 0)
		return x;
	if ((x = nn_graph_pool(g, NN_OP_MAXPOOL, "maxpool", x, 3, 2, 1)) < 0)
		return x;
	for (int s = 0; s < 4; s++) {
		int cout = w << s;
		for (int b = 0; b < blocks[s]; b++) {
			snprintf(pre, sizeof(pre), "layer%d.%d", s + 1, b);
			if ((x = net_basic_block(g, pre, x, cin, cout, b == 0 && s > 0 ? 2 : 1)) < 0)
				return x;
			cin = cout;
		}
	}
	return nn_graph_unary(g, NN_OP_GLOBAL_AVGPOOL, "avgpool", x);
}

#endif
