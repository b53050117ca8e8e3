/* watch.h: `detbench watch RUN_DIR`: the run's panels on a run another
 * process writes (a headless `detbench run` under nohup or in another SSH
 * session), following RUN_DIR/metrics.jsonl as it grows. No prompt: q,
 * Ctrl-C or Ctrl-D quit; the panel keys work as in the workbench. */
#ifndef DET_TUI_WATCH_H
#define DET_TUI_WATCH_H

/* The subcommand: argv[0] is "watch". Returns the exit status (0, or 1
 * with a message on stderr: no such directory, no terminal). */
int watch_main(int argc, char **argv);

#endif
