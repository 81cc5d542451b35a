/* client_int.h — what the source files of libvigil-client share (nothing here is exported). */
#ifndef VIGIL_CLIENT_INT_H
#define VIGIL_CLIENT_INT_H

#include <jansson.h>
#include <vigil/client.h>

#include "proto.h"

struct vigil_client {
	int fd;
	char *path;
	int64_t timeout_ms; /* 0 = none */
	unsigned char *in;  /* bytes received, not yet a whole message */
	size_t in_len, in_cap;
	int streaming; /* events_open succeeded: only events_next from now on */
	json_t *event; /* the event handed out last (for the accessors) */
	char *event_text;
	char err[1024];
};

/* Sets the handle's message; returns rc (so `return cl_fail(c, -EPROTO, ...)` reads well). */
int cl_fail(struct vigil_client *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sends obj (the reference stays the caller's). 0 or < 0. */
int cl_send(struct vigil_client *c, const json_t *obj);
/* The next message as a new reference. deadline_ms is on the monotonic clock (cl_deadline),
 * -1 = none. 0 or < 0. */
int cl_recv(struct vigil_client *c, json_t **out, int64_t deadline_ms);
/* A deadline extra_ms (<0: none) plus the handle's timeout from now; -1 = none. */
int64_t cl_deadline(const struct vigil_client *c, int64_t extra_ms);
/* Sends obj and reads its reply (stream items are skipped): 0 with *reply, the reply's error
 * code (> 0, message in c->err, *reply set), or < 0 (*reply NULL). */
int cl_call(struct vigil_client *c, const json_t *obj, int64_t deadline_ms, json_t **reply);

/* Fills e from one JSON entry of status or ps. */
void cl_entry(const json_t *o, struct vigil_client_entry *e, char **json_text);

#endif
