/* fuzz_optim.c: libFuzzer target for the optimiser state reader
 * (optim_state_read). The bytes are offered to an optimiser of every kind,
 * each bound to the same 16 parameters in 3 segments (the layout of the
 * corpus in tests/fuzz/corpus/optim, made by tests/nn/make_optim_corpus.lua);
 * a record that loads must then step without trouble, and one that does not
 * must leave the step count as it was. Run by tests/fuzz/driver.c in
 * `make check`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "nn/optim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct optim_segment segs[] = {
		{ "a", 0, 8, 0 }, { "b", 8, 4, OPTIM_BIAS }, { "c", 12, 4, OPTIM_NORM },
	};
	float p[16], g[16];

	for (int i = 0; i < 16; i++) {
		p[i] = 0.1f * (float)i - 0.5f;
		g[i] = 0.01f * (float)(i % 5) - 0.02f;
	}
	for (int k = 0; k < OPTIM_NKINDS; k++) {
		struct optim *opt = optim_new((enum optim_kind)k, NULL);

		if (!opt)
			continue;
		optim_set(opt, "ema", 0.9);
		if (optim_bind(opt, p, g, 16, segs, 3) == 0) {
			if (optim_state_read(opt, data, size) == 0) {
				optim_step(opt);
			} else if (optim_step_count(opt) != 0) {
				abort();   /* a refused record changed the optimiser */
			}
		}
		optim_free(opt);
	}
	return 0;
}
