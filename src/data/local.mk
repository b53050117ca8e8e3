# src/data: the dataset representation, images, readers, scenes, augmentation, loading.
libdetbench_la_SOURCES += \
	src/data/dataset.c src/data/dataset.h \
	src/data/image.c src/data/image.h

# Pascal VOC and YOLO readers, the dataset doctor, their Lua bindings and tests.
libdetbench_la_SOURCES += \
	src/data/voc.c src/data/voc.h \
	src/data/yolo.c src/data/yolo.h \
	src/data/doctor.c src/data/doctor.h src/data/doctor_cli.c \
	src/lua/lreaders.c src/lua/ldoctor.c

# COCO JSON reader/writer (the eval helper's part).
libdetbench_la_SOURCES += \
	src/data/coco.c src/data/coco.h \
	src/data/coco_json.c src/data/coco_json.h

check_PROGRAMS += tests/data/test_voc tests/data/test_yolo tests/data/test_doctor
tests_data_test_voc_LDADD = $(TEST_LDADD)
tests_data_test_yolo_LDADD = $(TEST_LDADD)
tests_data_test_doctor_LDADD = $(TEST_LDADD)
TESTS += tests/data/test_voc tests/data/test_yolo tests/data/test_doctor
TESTS += tests/data/test_doctor_cli.sh tests/lua/readers_spec.lua
EXTRA_DIST += tests/data/test_doctor_cli.sh tests/lua/readers_spec.lua
# the API chapter, installed with the others (own variable: doc/local.mk sets dist_apidoc_DATA later)
readersdocdir = $(docdir)/api
dist_readersdoc_DATA = doc/api/readers.md
EXTRA_DIST += tests/data/voc_small tests/data/yolo_small tests/data/bad/voc tests/data/bad/yolo

# Fashion-MNIST scenes, image I/O, augmentation, samplers, the loader, drawing.
libdetbench_la_SOURCES += \
	src/data/fashion.c src/data/fashion.h \
	src/data/imageio.c src/data/imageio.h \
	src/data/augment.c src/data/augment.h \
	src/data/sampler.c src/data/sampler.h \
	src/data/loader.c src/data/loader.h \
	src/data/draw.c src/data/draw.h

check_PROGRAMS += tests/data/test_fashion tests/data/test_imageio tests/data/test_augment \
	tests/data/test_sampler tests/data/test_loader
tests_data_test_fashion_LDADD = $(TEST_LDADD)
tests_data_test_imageio_LDADD = $(TEST_LDADD)
tests_data_test_augment_LDADD = $(TEST_LDADD)
tests_data_test_sampler_LDADD = $(TEST_LDADD)
tests_data_test_loader_LDADD = $(TEST_LDADD)
TESTS += tests/data/test_fashion tests/data/test_imageio tests/data/test_augment \
	tests/data/test_sampler tests/data/test_loader
EXTRA_DIST += tests/data/images tests/golden/imageio
libdetbench_la_SOURCES += src/lua/lfashion.c src/lua/laug.c src/lua/laug.h src/lua/lsample.c
TESTS += tests/lua/fashion_spec.lua tests/lua/aug_spec.lua tests/lua/sample_spec.lua
EXTRA_DIST += tests/lua/fashion_spec.lua tests/lua/aug_spec.lua tests/lua/sample_spec.lua
# the det.data / det.aug / det.sample chapters (own variable: doc/local.mk sets dist_apidoc_DATA later)
pipelinedocdir = $(docdir)/api
dist_pipelinedoc_DATA = doc/api/data.md doc/api/aug.md doc/api/sample.md
tests_data_test_imageio_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_data_test_loader_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
