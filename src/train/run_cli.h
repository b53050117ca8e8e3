/* run_cli.h: the `detbench run` subcommand (headless training of a recipe). */
#ifndef DET_TRAIN_RUN_CLI_H
#define DET_TRAIN_RUN_CLI_H

/* `detbench run FILE.lua [--resume RUN_DIR] [--quiet] [ARGS...]`; argv[0]
 * is "run". Returns the exit status (see run_cli.c). */
int run_cli_main(int argc, char **argv);

#endif
