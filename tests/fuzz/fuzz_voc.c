/* fuzz_voc.c: libFuzzer target for the VOC reader. The bytes are one
 * annotation document; whatever it becomes is then run through the doctor,
 * so every path from bytes to report is exercised. Built with clang
 * -fsanitize=fuzzer by `make fuzz`, and with tests/fuzz/driver.c in
 * `make check`. */
#include <stdint.h>
#include <stdlib.h>

#include "data/doctor.h"
#include "data/voc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct voc_options opt = { .classes = VOC_CLASSES_DISCOVER };
	struct dataset *ds = dataset_new("fuzz", NULL);
	struct doctor_report *r;

	if (ds == NULL)
		return 0;
	/* the first byte picks the class mode, so the fixed-list paths run too */
	if (size > 0 && data[0] == 'V')
		opt.classes = VOC_CLASSES_VOC;
	voc_parse_xml(ds, (const char *)data, size, "fuzz.xml", NULL, 1, &opt);
	if (doctor_run(ds, NULL, &r) == 0) {
		free(doctor_text(r));
		doctor_report_free(r);
	}
	dataset_free(ds);
	return 0;
}
