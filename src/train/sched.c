/* sched.c: learning-rate schedules. */
#include "train/sched.h"
int sched_placeholder_(void);
int sched_placeholder_(void) { return 0; }
