/* vigilctl.h — what the vigilctl command line and its output formatting share. */
#ifndef VIGILCTL_H
#define VIGILCTL_H

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
	OUT_GENERIC, /* any other reply: its members, one per line */
};

/* Prints a one-shot reply for humans on f. colour: use ANSI colours. */
void out_reply(FILE *f, enum out_kind kind, const json_t *reply, int colour);
/* Prints one streamed item (an event, a log line) for humans, flushed. */
void out_stream_item(FILE *f, enum out_kind kind, const json_t *item);

#endif
