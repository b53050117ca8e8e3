# src/train: the training loop, schedules, metrics and run directory.

# learning-rate schedules: pure functions lr(step, epoch) of their config
libdetbench_la_SOURCES += src/train/sched.c src/train/sched.h
check_PROGRAMS += tests/train/test_sched
tests_train_test_sched_LDADD = $(TEST_LDADD)
TESTS += tests/train/test_sched
EXTRA_DIST += tests/golden/sched/make_sched.py tests/golden/sched/sched.txt
libdetbench_la_SOURCES += src/lua/lsched.c src/lua/lsched.h
TESTS += tests/lua/sched_spec.lua
EXTRA_DIST += tests/lua/sched_spec.lua
scheddocdir = $(docdir)/api
dist_scheddoc_DATA = doc/api/sched.md

# metrics store: series rings, evaluations, events, progress, jsonl log and follower
libdetbench_la_SOURCES += src/train/metrics.c src/train/metrics.h
check_PROGRAMS += tests/train/test_metrics
tests_train_test_metrics_LDADD = $(TEST_LDADD)
TESTS += tests/train/test_metrics

# checkpoints: sectioned, checksummed, written atomically
libdetbench_la_SOURCES += src/train/checkpoint.c src/train/checkpoint.h
check_PROGRAMS += tests/train/test_checkpoint
tests_train_test_checkpoint_LDADD = $(TEST_LDADD)
TESTS += tests/train/test_checkpoint

# the training loop: its own thread, commands, events, evaluation, resume
libdetbench_la_SOURCES += src/train/samples.c src/train/samples.h
check_PROGRAMS += tests/train/test_samples
tests_train_test_samples_LDADD = $(TEST_LDADD)
TESTS += tests/train/test_samples
libdetbench_la_SOURCES += src/train/trainer.c src/train/trainer.h
check_PROGRAMS += tests/train/test_trainer
tests_train_test_trainer_LDADD = $(TEST_LDADD)
TESTS += tests/train/test_trainer

# the detector as a trainer task, and det.experiment's C half
libdetbench_la_SOURCES += src/train/task_detector.c src/train/task_detector.h
libdetbench_la_SOURCES += src/lua/lexperiment.c src/lua/lexperiment.h src/lua/leval.h

# `detbench run`: headless training with a progress line, signals, plots
libdetbench_la_SOURCES += src/train/run_cli.c src/train/run_cli.h src/train/plot.c src/train/plot.h
TESTS += tests/lua/experiment_spec.lua
EXTRA_DIST += tests/lua/experiment_spec.lua
TESTS += tests/train/run_cli.sh
EXTRA_DIST += tests/train/run_cli.sh tests/data/coco_small/annotations.json \
	tests/data/coco_small/images/000001.png tests/data/coco_small/images/000002.png \
	tests/data/coco_small/images/000003.png tests/data/coco_small/images/000004.png \
	tests/data/coco_small/images/000005.png tests/data/coco_small/images/000006.png
experimentdocdir = $(docdir)/api
dist_experimentdoc_DATA = doc/api/experiment.md
EXTRA_DIST += bench/fashion_curve.sh
TESTS += tests/lua/gt_losses_spec.lua
EXTRA_DIST += tests/lua/gt_losses_spec.lua
