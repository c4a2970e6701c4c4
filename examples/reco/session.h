/* A model loaded for questions (info, eval, recommend, similar, export),
 * with the data it was trained on when the command takes --data. */
#ifndef RECO_CLI_SESSION_H
#define RECO_CLI_SESSION_H

#include "cli.h"

typedef struct session {
    reco_backend *backend;
    reco_model *model;
    reco_dataset *data;
} session;

/* Loads --model on --backend (default cpu), and --data (+ --titles) when
 * given (needed with need_data), checking that the data's vocabulary is the
 * model's. EXIT_OK, or the exit code after printing the problem. */
int open_session(options *opts, session *s, int need_data);

void session_free(session *s);

#endif
