/* vigilctl.h — what the vigilctl command line, its request builders and its output share. */
#ifndef VIGILCTL_H
#define VIGILCTL_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* How a command's reply is shown to humans. */
enum out_kind {
	OUT_STATUS, /* {"processes": [...]} as a table */
	OUT_SIGNAL,
	OUT_LOGS,
	OUT_EVENTS,
	OUT_PLUGINS,
	OUT_SHUTDOWN,
	OUT_VERSION,
	OUT_RUN,  /* the task id (or, with --wait, as OUT_TASK) */
	OUT_TASK, /* wait: one line about the finished task */
	OUT_CANCEL,
	OUT_PS,
	OUT_STATS,
	OUT_RELOAD,
	OUT_REEXEC,
	OUT_HEALTH,  /* score, factors, alerts, violations (one block per instance) */
	OUT_REPORT,  /* the document, to stdout or to vigilctl_output */
	OUT_GENERIC, /* any other reply: its members, one per line */
};

/* Exit codes of SPEC §1. */
enum {
	EX_OK = 0,
	EX_FAILED = 1,
	EX_USAGE = 2,
	EX_NOENT = 3,
	EX_UNREACHABLE = 4,
	EX_CONFIG = 100,
	EX_TEMPFAIL = 111,
};

/* One command: its name, how its reply is shown, and how its request is built from its
 * arguments (argv[0] is the command). build returns 0 or an exit code (after saying why). */
struct command {
	const char *name;
	enum out_kind out;
	int (*build)(int argc, char **argv, json_t *req);
};

/* vigilctl_args.c: the table of commands. */
extern const struct command vigilctl_commands[];
extern const size_t vigilctl_ncommands;
/* report -o FILE; NULL = stdout. */
extern const char *vigilctl_output;

/* vigilctl.c */
extern int vigilctl_json; /* --json */
/* Prints "vigilctl: msg" on stderr (and the error document on stdout with --json); returns
 * code. */
int vigilctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A usage error: the message, then the usage line; returns EX_USAGE. */
int vigilctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* vigilctl_out.c */
/* Prints a one-shot reply for humans on f. colour: use ANSI colours. */
void out_reply(FILE *f, enum out_kind kind, const json_t *reply, int colour);
/* Prints one streamed item (an event, a log line) for humans, flushed. */
void out_stream_item(FILE *f, enum out_kind kind, const json_t *item);
/* The exit code of a wait-like reply ({"state", "exit_code", "signal"}): see docs/vigilctl.md. */
int out_task_exit(const json_t *task);

/* vigilctl_report.c */
/* Writes a report reply's document (XML as is, a JSON report indented; with --json a JSON
 * report as one document) to stdout or to path, atomically (a temporary file renamed over it).
 * Returns an exit code. */
int out_report(const json_t *reply, const char *path);
/* A health reply for humans: one block per instance. colour: use ANSI colours. */
void out_health(FILE *f, const json_t *reply, int colour);

#endif
