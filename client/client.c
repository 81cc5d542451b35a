/* client.c — libvigil-client: the connection, framing (proto.c), raw requests, events. */
#include "client_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cl_fail(struct vigil_client *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return rc;
}

int64_t cl_deadline(const struct vigil_client *c, int64_t extra_ms)
{
	/* a wait of the daemon's own without end: nothing bounds its answer */
	if (extra_ms < 0 || c->timeout_ms <= 0)
		return -1;
	return mono_ms() + extra_ms + c->timeout_ms;
}

VIGIL_CLIENT_API struct vigil_client *vigil_client_connect(const char *socket_path, int *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct vigil_client *c;
	int e;

	if (!socket_path || !*socket_path)
		socket_path = getenv("VIGIL_SOCKET");
	if (!socket_path || !*socket_path) {
		e = -EDESTADDRREQ;
		goto fail;
	}
	if (strlen(socket_path) >= sizeof sa.sun_path) {
		e = -ENAMETOOLONG;
		goto fail;
	}
	c = calloc(1, sizeof *c);
	if (!c || !(c->path = strdup(socket_path))) {
		free(c);
		e = -ENOMEM;
		goto fail;
	}
	memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
	/* "@name" is an abstract socket, as vigild writes it for unprivileged users */
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa,
	            sa.sun_path[0] ? sizeof sa
	                           : (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	                                         strlen(socket_path))) != 0) {
		e = -errno;
		if (c->fd >= 0)
			close(c->fd);
		free(c->path);
		free(c);
		goto fail;
	}
	return c;
fail:
	if (err)
		*err = e;
	return NULL;
}

VIGIL_CLIENT_API void vigil_client_close(struct vigil_client *c)
{
	if (!c)
		return;
	close(c->fd);
	json_decref(c->event);
	free(c->event_text);
	free(c->in);
	free(c->path);
	free(c);
}

VIGIL_CLIENT_API void vigil_client_set_timeout(struct vigil_client *c, int64_t timeout_ms)
{
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

VIGIL_CLIENT_API const char *vigil_client_error(const struct vigil_client *c)
{
	return c ? c->err : "no connection";
}

VIGIL_CLIENT_API int vigil_client_fd(const struct vigil_client *c)
{
	return c->fd;
}

VIGIL_CLIENT_API void vigil_client_free(void *p)
{
	free(p);
}

/* ---- framing ---- */

static int send_frame(struct vigil_client *c, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return cl_fail(c, -errno, "cannot send to vigild at %s: %s", c->path,
			               strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cl_send(struct vigil_client *c, const json_t *obj)
{
	unsigned char *frame;
	size_t len;
	int err, rc;

	if (c->streaming)
		return cl_fail(c, -EBUSY, "this connection streams events; open another one");
	frame = proto_encode(obj, &len, &err);
	if (!frame)
		return cl_fail(c, err,
		               err == -EMSGSIZE ? "request larger than 1 MiB" : "out of memory");
	rc = send_frame(c, frame, len);
	free(frame);
	return rc;
}

/* The buffer a connection keeps between messages; a larger one, left by a big reply, is
 * given back once that reply has been taken. */
#define IN_KEEP (64u * 1024)

/* Reads what is there into c->in; waits until deadline_ms (-1 = for ever). */
static int fill(struct vigil_client *c, int64_t deadline_ms)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	size_t want = c->in_len + IN_KEEP;
	ssize_t n;
	int wait;

	for (;;) {
		wait = -1;
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - mono_ms();

			wait = left > 0 ? (left > 1000000 ? 1000000 : (int)left) : 0;
		}
		n = poll(&p, 1, wait);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cl_fail(c, -errno, "poll: %s", strerror(errno));
		if (n == 0) {
			if (deadline_ms >= 0 && mono_ms() >= deadline_ms)
				return cl_fail(c, -ETIMEDOUT, "vigild at %s did not answer in time",
				               c->path);
			continue;
		}
		break;
	}
	/* once the length is known, room for the whole message at once (cl_recv has checked
	 * it against PROTO_MAX_REPLY): a big reply is read without growing step by step */
	if (c->in_len >= PROTO_HDR_LEN && PROTO_HDR_LEN + proto_get_header(c->in) > want)
		want = PROTO_HDR_LEN + proto_get_header(c->in);
	if (c->in_cap < want) {
		size_t cap = c->in_cap * 2 > want ? c->in_cap * 2 : want;
		unsigned char *q = realloc(c->in, cap);

		if (!q)
			return cl_fail(c, -ENOMEM, "out of memory for a reply of %zu bytes", want);
		c->in = q;
		c->in_cap = cap;
	}
	do
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return cl_fail(c, -errno, "cannot read from vigild at %s: %s", c->path,
		               strerror(errno));
	if (n == 0)
		return cl_fail(c, -ECONNRESET, "vigild at %s closed the connection %s", c->path,
		               c->in_len ? "mid-reply" : "without replying");
	c->in_len += (size_t)n;
	return 0;
}

/* Waits for the next whole message: 0 with *body (inside c->in) and *len; consume() it once
 * used. */
static int next_frame(struct vigil_client *c, const char **body, size_t *len, int64_t deadline_ms)
{
	for (;;) {
		ssize_t frame = proto_frame_check_max(c->in, c->in_len, PROTO_MAX_REPLY, len);
		int rc;

		if (frame < 0 && proto_get_header(c->in) > PROTO_MAX_REPLY)
			return cl_fail(c, -EMSGSIZE,
			               "vigild at %s sent a message of %u bytes, more than the %u "
			               "bytes this client accepts; narrow the request",
			               c->path, proto_get_header(c->in), PROTO_MAX_REPLY);
		if (frame < 0)
			return cl_fail(c, -EPROTO, "vigild at %s sent a bad message length",
			               c->path);
		if (frame > 0) {
			*body = (const char *)c->in + PROTO_HDR_LEN;
			return 0;
		}
		rc = fill(c, deadline_ms);
		if (rc < 0)
			return rc;
	}
}

/* Drops the message next_frame() gave (len bytes of body) from the buffer. */
static void consume(struct vigil_client *c, size_t len)
{
	c->in_len -= PROTO_HDR_LEN + len;
	memmove(c->in, c->in + PROTO_HDR_LEN + len, c->in_len);
	if (c->in_cap > 2 * IN_KEEP && c->in_len <= IN_KEEP) {
		unsigned char *q = realloc(c->in, IN_KEEP);

		if (q) {
			c->in = q;
			c->in_cap = IN_KEEP;
		}
	}
}

int cl_recv(struct vigil_client *c, json_t **out, int64_t deadline_ms)
{
	const char *body;
	size_t len = 0;
	char err[256];
	int rc;

	*out = NULL;
	rc = next_frame(c, &body, &len, deadline_ms);
	if (rc < 0)
		return rc;
	*out = proto_parse(body, len, err, sizeof err);
	consume(c, len);
	if (!*out)
		return cl_fail(c, -EPROTO, "vigild at %s sent a bad reply: %s", c->path, err);
	return 0;
}

static int is_stream_item(const json_t *msg)
{
	return json_object_get(msg, "stream") && !json_object_get(msg, "ok") &&
	       !json_object_get(msg, "error");
}

int cl_call(struct vigil_client *c, const json_t *obj, int64_t deadline_ms, json_t **reply)
{
	const char *msg;
	int rc = cl_send(c, obj), code;

	*reply = NULL;
	if (rc < 0) {
		/* it may have refused us with a reason before we could write: read it */
		json_t *r = NULL;

		if (rc != -EBUSY && cl_recv(c, &r, mono_ms() + 1000) == 0 &&
		    (code = proto_reply_error(r, &msg)) > 0) {
			cl_fail(c, code, "%s", msg);
			*reply = r;
			return code;
		}
		json_decref(r);
		return rc;
	}
	for (;;) {
		rc = cl_recv(c, reply, deadline_ms);
		if (rc < 0)
			return rc;
		if (!is_stream_item(*reply))
			break;
		json_decref(*reply);
		*reply = NULL;
	}
	code = proto_reply_error(*reply, &msg);
	if (code > 0)
		return cl_fail(c, code, "%s", msg);
	c->err[0] = '\0';
	return 0;
}

/* ---- raw API ---- */

static json_t *parse_request(struct vigil_client *c, const char *json)
{
	char err[256];
	json_t *j;

	if (!json)
		return NULL;
	j = proto_parse(json, strlen(json), err, sizeof err);
	if (!j)
		cl_fail(c, -EINVAL, "bad request: %s", err);
	return j;
}

VIGIL_CLIENT_API int vigil_client_send(struct vigil_client *c, const char *json)
{
	json_t *j = parse_request(c, json);
	int rc;

	if (!j)
		return json ? -EINVAL : cl_fail(c, -EINVAL, "bad request: no JSON");
	rc = cl_send(c, j);
	json_decref(j);
	return rc;
}

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(12));
}

/* The next message's text, checked (it must be one JSON object) when check is set. */
static int recv_text(struct vigil_client *c, char **json, size_t *len, int64_t timeout_ms,
                     int check)
{
	const char *body;
	size_t n = 0;
	char err[256];
	int rc;

	*json = NULL;
	rc = next_frame(c, &body, &n, timeout_ms < 0 ? -1 : mono_ms() + timeout_ms);
	if (rc < 0)
		return rc;
	if (check) {
		json_t *j = proto_parse(body, n, err, sizeof err);

		if (!j) {
			consume(c, n);
			return cl_fail(c, -EPROTO, "vigild at %s sent a bad reply: %s", c->path,
			               err);
		}
		json_decref(j);
	}
	/* what vigild wrote is compact JSON already: handed over as it is */
	*json = malloc(n + 1);
	if (*json) {
		memcpy(*json, body, n);
		(*json)[n] = '\0';
	}
	consume(c, n);
	if (!*json)
		return cl_fail(c, -ENOMEM, "out of memory");
	if (len)
		*len = n;
	return 0;
}

VIGIL_CLIENT_API int vigil_client_recv(struct vigil_client *c, char **json, int64_t timeout_ms)
{
	return recv_text(c, json, NULL, timeout_ms, 1);
}

VIGIL_CLIENT_API int vigil_client_recv_raw(struct vigil_client *c, char **json, size_t *len,
                                           int64_t timeout_ms)
{
	return recv_text(c, json, len, timeout_ms, 0);
}

VIGIL_CLIENT_API int vigil_client_request(struct vigil_client *c, const char *request, char **reply)
{
	json_t *j = parse_request(c, request), *r = NULL;
	int rc;

	*reply = NULL;
	if (!j)
		return request ? -EINVAL : cl_fail(c, -EINVAL, "bad request: no JSON");
	rc = cl_call(c, j, cl_deadline(c, 0), &r);
	json_decref(j);
	if (r) {
		*reply = dump(r);
		json_decref(r);
		if (!*reply)
			return cl_fail(c, -ENOMEM, "out of memory");
	}
	return rc;
}

/* ---- events ---- */

VIGIL_CLIENT_API int vigil_client_events_open(struct vigil_client *c, const char *const *types,
                                              const char *subject, int replay)
{
	json_t *req = json_pack("{s:s,s:b,s:b}", "cmd", "events", "follow", 1, "replay", replay);
	json_t *arr = json_array();
	int rc;

	if (!req || !arr) {
		json_decref(req);
		json_decref(arr);
		return cl_fail(c, -ENOMEM, "out of memory");
	}
	for (; types && *types; types++)
		json_array_append_new(arr, json_string(*types));
	if (json_array_size(arr))
		json_object_set_new(req, "types", arr);
	else
		json_decref(arr);
	if (subject)
		json_object_set_new(req, "subject", json_string(subject));
	rc = cl_send(c, req);
	json_decref(req);
	if (rc == 0)
		c->streaming = 1;
	return rc;
}

/* "2026-11-27T03:04:05.123Z" to Unix microseconds; 0 when it is not that. */
static int64_t parse_time_us(const char *s)
{
	struct tm tm;
	int ms = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	                 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	return t == (time_t)-1 ? 0 : (int64_t)t * 1000000 + (int64_t)ms * 1000;
}

VIGIL_CLIENT_API int vigil_client_events_next(struct vigil_client *c, struct vigil_client_event *ev,
                                              int64_t timeout_ms)
{
	json_t *m, *item;
	const char *msg;
	int rc, code;

	memset(ev, 0, sizeof *ev);
	if (!c->streaming)
		return cl_fail(c, -EINVAL, "no event stream: call vigil_client_events_open first");
	json_decref(c->event);
	free(c->event_text);
	c->event = NULL;
	c->event_text = NULL;
	rc = cl_recv(c, &m, timeout_ms < 0 ? -1 : mono_ms() + timeout_ms);
	if (rc < 0)
		return rc;
	if (json_is_true(json_object_get(m, "end"))) {
		json_decref(m);
		return cl_fail(c, -ESHUTDOWN,
		               "vigild ended the event stream (it is shutting down)");
	}
	code = proto_reply_error(m, &msg);
	if (code > 0) {
		cl_fail(c, code, "%s", msg);
		json_decref(m);
		return code;
	}
	item = json_object_get(m, "stream");
	if (!json_is_object(item)) {
		json_decref(m);
		return cl_fail(c, -EPROTO, "vigild at %s sent something that is not an event",
		               c->path);
	}
	c->event = json_incref(item);
	json_decref(m);
	c->event_text = dump(c->event);
	ev->size = sizeof *ev;
	ev->seq = (uint64_t)json_integer_value(json_object_get(c->event, "seq"));
	ev->time_us = parse_time_us(json_string_value(json_object_get(c->event, "time")));
	ev->type = json_string_value(json_object_get(c->event, "type"));
	ev->subject = json_string_value(json_object_get(c->event, "subject"));
	ev->json = c->event_text;
	ev->priv_ = c->event;
	return 0;
}

VIGIL_CLIENT_API const char *vigil_client_event_str(const struct vigil_client_event *ev,
                                                    const char *field)
{
	return ev && ev->priv_ ? json_string_value(json_object_get(ev->priv_, field)) : NULL;
}

VIGIL_CLIENT_API int vigil_client_event_num(const struct vigil_client_event *ev, const char *field,
                                            double *out)
{
	const json_t *v = ev && ev->priv_ ? json_object_get(ev->priv_, field) : NULL;

	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (!json_is_number(v))
		return -ENOENT;
	*out = json_number_value(v);
	return 0;
}

VIGIL_CLIENT_API int vigil_client_events_follow(struct vigil_client *c, const char *const *types,
                                                const char *subject, vigil_client_event_fn fn,
                                                void *arg)
{
	struct vigil_client_event ev;
	int rc = vigil_client_events_open(c, types, subject, 0);

	while (rc == 0) {
		rc = vigil_client_events_next(c, &ev, -1);
		if (rc == 0)
			rc = fn(&ev, arg);
	}
	return rc == -ESHUTDOWN ? 0 : rc;
}
