/* fuzz_yolo.c: libFuzzer target for the YOLO reader. The same bytes are
 * read three ways: as a label file (for a 640x480 image, classes found as
 * they come), as a data YAML and as a names file. Built with clang
 * -fsanitize=fuzzer by `make fuzz`, and with tests/fuzz/driver.c in
 * `make check`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/doctor.h"
#include "data/yolo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dataset *ds = dataset_new("fuzz", NULL);
	struct doctor_report *r;
	struct yolo_data d;

	if (ds == NULL)
		return 0;
	if (dataset_image_add(ds, 1, "fuzz.jpg", 640, 480) >= 0 &&
	    yolo_labels_parse(ds, (const char *)data, size, "fuzz.txt", 1, NULL) == 0 &&
	    doctor_run(ds, NULL, &r) == 0) {
		free(doctor_text(r));
		doctor_report_free(r);
	}
	dataset_free(ds);
	if (yolo_data_parse((const char *)data, size, "fuzz.yaml", "dir", &d) == 0)
		yolo_data_fini(&d);
	memset(&d, 0, sizeof d);
	yolo_names_parse((const char *)data, size, "fuzz.names", &d);
	yolo_data_fini(&d);
	return 0;
}
