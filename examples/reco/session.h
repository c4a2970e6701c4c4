/* A model loaded for questions (info, eval, recommend, similar, export),
 * with the data it was trained on when the command takes --data. */
#ifndef RECO_CLI_SESSION_H
#define RECO_CLI_SESSION_H

#include "cli.h"

typedef struct session {
    reco_backend *backend;
    reco_model *model;
    reco_dataset *data;
    reco_dataset *titled; /* --titles without --data: the model's ids, titled */
    reco_filter *filter;  /* recommend: what it leaves out */
    reco_index *index;    /* recommend --approximate: the model's item index */
    size_t ef;            /* and its search's candidates */
} session;

/* Loads --model on --backend (default cpu), and --data (+ --titles) when
 * given (needed with need_data), checking that the data's vocabulary is the
 * model's. EXIT_OK, or the exit code after printing the problem. */
int open_session(options *opts, session *s, int need_data);

/* open_session's need_data for a command that takes --titles without
 * --data (recommend: the titles on the model's own ids). */
#define SESSION_TITLES_ALONE 2

void session_free(session *s);

/* Reads a ratings file with the ids of the session's model (its indices
 * the model's, whatever files it was trained from); refuses a file whose
 * items are mostly unknown to the model. An exit code, the problem
 * printed. */
int session_read(const session *s, const char *path, reco_dataset **out);

/* The refusal of session_read, for data read otherwise (path names it). */
int session_check(const session *s, const reco_dataset *data, const char *path);

/* The id of a user (users != 0) or item index of `model` as text, written
 * to `text` (RECO_ID_TEXT_MAX bytes) and returned; the index itself when
 * the model has no vocabulary. */
const char *id_text(const reco_model *model, int users, int32_t index, char *text);

/* Writes a JSON string (escaping quotes, backslashes and control bytes). */
void write_json_string(FILE *out, const char *text);

/* Writes an id for JSON: an integer id as a number, a text id as a string. */
void write_json_id(FILE *out, const reco_model *model, int users, int32_t index);

#endif
