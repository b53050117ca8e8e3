/* sched.h: learning-rate schedules (placeholder). */
#ifndef DET_TRAIN_SCHED_H
#define DET_TRAIN_SCHED_H
#endif
