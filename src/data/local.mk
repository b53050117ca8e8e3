# src/data: the dataset representation, images, readers, scenes, augmentation, loading.
libdetbench_la_SOURCES += \
	src/data/dataset.c src/data/dataset.h \
	src/data/image.c src/data/image.h
