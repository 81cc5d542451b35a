/* ctl_conn.c — one control connection: non-blocking reads, framing, queued writes, teardown. */
#include "ctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_MAX (PROTO_HDR_LEN + PROTO_MAX_MSG)

static void conn_cb(int fd, uint32_t events, void *arg);

size_t ctl_out_pending(const struct ctl_conn *c)
{
	return c->out_len - c->out_off;
}

static void conn_set_mask(struct ctl_conn *c)
{
	uint32_t mask = 0;

	if (c->dead)
		return;
	/* read only between requests: a busy connection's next request waits in the socket; so
	 * do the requests of a client that pipelines more than the input buffer holds */
	if (!c->rd_eof && !c->closing && c->busy == CTL_IDLE && c->in_len < IN_MAX)
		mask |= VIGIL_FD_IN;
	if (ctl_out_pending(c))
		mask |= VIGIL_FD_OUT;
	if (mask != c->wmask && c->ctl->host->watch_modify(c->w, mask) == 0)
		c->wmask = mask;
}

/* Writes what the socket takes now; the rest waits for VIGIL_FD_OUT. */
static void conn_flush(struct ctl_conn *c)
{
	while (!c->dead && ctl_out_pending(c)) {
		ssize_t n = send(c->fd, c->out + c->out_off, ctl_out_pending(c),
		                 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = 1; /* the client went away mid-reply */
			break;
		}
		c->out_off += (size_t)n;
	}
	if (!ctl_out_pending(c)) {
		c->out_off = c->out_len = 0;
		/* do not keep a big reply's buffer around for an idle connection */
		if (c->out_cap > 65536) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
		if (c->closing && c->busy == CTL_IDLE)
			c->dead = 1;
	}
	conn_set_mask(c);
}

/* Whether the client has let too much pile up to queue more. Replies are paced (the next
 * request is taken only once most of the output is gone), so only a stream gets here; one
 * reply, however large, is always queued. */
static int conn_overflows(struct ctl_conn *c)
{
	if (ctl_out_pending(c) <= CTL_OUT_MAX)
		return 0;
	c->ctl->host->log(c->ctl->self, VIGIL_LOG_WARN,
	                  "dropping control client (pid %d): it does not read its replies",
	                  (int)c->pid);
	c->dead = 1;
	return 1;
}

int ctl_send_frame(struct ctl_conn *c, const unsigned char *frame, size_t len)
{
	if (c->dead || conn_overflows(c))
		return -EPIPE;
	if (c->out_off && c->out_len + len > c->out_cap) {
		memmove(c->out, c->out + c->out_off, ctl_out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		unsigned char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			c->dead = 1;
			return -EPIPE;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, frame, len);
	c->out_len += len;
	conn_flush(c);
	return c->dead ? -EPIPE : 0;
}

int ctl_send_buf(struct ctl_conn *c, struct proto_buf *b)
{
	int rc = proto_buf_frame_end(b);

	if (rc != 0) {
		free(b->p);
		*b = (struct proto_buf){.max = b->max};
		if (rc == -EMSGSIZE)
			return ctl_send_error(c, PROTO_FAILED,
			                      "reply larger than %u bytes; narrow the request",
			                      PROTO_MAX_REPLY);
		c->dead = 1;
		return -EPIPE;
	}
	if (c->dead || conn_overflows(c) || ctl_out_pending(c)) {
		/* behind other output (a stream's, a pipelined reply's): queued after it */
		rc = ctl_send_frame(c, b->p, b->len);
		free(b->p);
	} else {
		/* the usual case: the frame becomes the output queue, a big reply is not copied */
		free(c->out);
		c->out = b->p;
		c->out_off = 0;
		c->out_len = b->len;
		c->out_cap = b->cap;
		conn_flush(c);
		rc = c->dead ? -EPIPE : 0;
	}
	*b = (struct proto_buf){.max = b->max};
	return rc;
}

int ctl_send(struct ctl_conn *c, json_t *msg)
{
	struct proto_buf b = {.max = PROTO_HDR_LEN + PROTO_MAX_REPLY};

	if (!msg) {
		c->dead = 1;
		return -EPIPE;
	}
	proto_buf_frame_begin(&b);
	if (json_dump_callback(msg, proto_buf_dump_cb, &b,
	                       JSON_COMPACT | JSON_REAL_PRECISION(12)) != 0 &&
	    !b.err)
		b.err = -ENOMEM;
	json_decref(msg);
	return ctl_send_buf(c, &b);
}

int ctl_send_error(struct ctl_conn *c, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ctl_send(c, proto_error(code, "%s", msg));
}

/* A protocol error: say why if the client still listens, then hang up. */
static void conn_protocol_error(struct ctl_conn *c, const char *fmt, const char *detail)
{
	ctl_send_error(c, PROTO_USAGE, fmt, detail);
	c->closing = 1;
	c->in_len = 0;
	conn_flush(c);
}

static void conn_process(struct ctl_conn *c)
{
	/* a client that pipelines requests gets their replies at the pace it reads them: the
	 * next request waits until most of the output so far is gone */
	while (!c->dead && !c->closing && c->busy == CTL_IDLE &&
	       ctl_out_pending(c) < CTL_OUT_HIGH) {
		size_t body_len = 0;
		ssize_t frame = proto_frame_check(c->in, c->in_len, &body_len);
		char err[256];
		json_t *req;

		if (frame == 0)
			break;
		if (frame < 0) {
			uint32_t n = proto_get_header(c->in);
			char detail[32];

			snprintf(detail, sizeof detail, "%u", n);
			conn_protocol_error(
			    c, "bad message length %s (expected 1 to 1048576 bytes)", detail);
			return;
		}
		req = proto_parse((const char *)c->in + PROTO_HDR_LEN, body_len, err, sizeof err);
		c->in_len -= (size_t)frame;
		memmove(c->in, c->in + frame, c->in_len);
		if (!req) {
			conn_protocol_error(c, "bad request: %s", err);
			return;
		}
		c->in_dispatch = 1;
		ctl_handle_request(c, req);
		c->in_dispatch = 0;
		json_decref(req);
	}
	if (!c->dead && c->in_len == IN_MAX && ctl_out_pending(c) >= CTL_OUT_HIGH) {
		/* it keeps writing requests and reads none of the replies: neither side can
		 * move on */
		c->ctl->host->log(c->ctl->self, VIGIL_LOG_WARN,
		                  "dropping control client (pid %d): it does not read its replies",
		                  (int)c->pid);
		c->dead = 1;
	}
	if (!c->dead && c->rd_eof && c->busy == CTL_IDLE && !c->closing &&
	    ctl_out_pending(c) < CTL_OUT_HIGH) {
		if (c->in_len)
			conn_protocol_error(c, "%s",
			                    "truncated message: the client closed mid-request");
		c->closing = 1;
	}
	if (!c->dead && c->closing)
		conn_flush(c);
	conn_set_mask(c);
}

static void conn_read(struct ctl_conn *c)
{
	ssize_t n;
	size_t room = IN_MAX - c->in_len;

	if (room > CTL_READ_CHUNK)
		room = CTL_READ_CHUNK;
	if (room == 0)
		return; /* cannot happen: a full buffer always holds a whole frame */
	/* grown as a frame needs it: most requests are tiny, a few reach PROTO_MAX_MSG */
	if (c->in_cap - c->in_len < room) {
		unsigned char *p = realloc(c->in, c->in_len + room);

		if (!p) {
			c->dead = 1;
			return;
		}
		c->in = p;
		c->in_cap = c->in_len + room;
	}
	n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			c->dead = 1;
		return;
	}
	if (n == 0) {
		c->rd_eof = 1;
		conn_set_mask(c);
		return;
	}
	c->in_len += (size_t)n;
}

static void conn_cb(int fd, uint32_t events, void *arg)
{
	struct ctl_conn *c = arg;

	(void)fd;
	if (events & VIGIL_FD_OUT) {
		conn_flush(c);
		if (!c->dead && c->logf && ctl_out_pending(c) < CTL_OUT_HIGH)
			ctl_logs_resume(c);
	}
	if ((events & VIGIL_FD_IN) && !c->dead)
		conn_read(c);
	if ((events & (VIGIL_FD_HUP | VIGIL_FD_ERR)) && !(events & VIGIL_FD_IN))
		c->dead = 1; /* gone for good: nobody to answer */
	if (!c->dead)
		conn_process(c);
	ctl_conn_reap(c);
}

int ctl_conn_accept(struct ctl *ctl, int fd, uid_t uid, pid_t pid, const char *deny)
{
	struct ctl_conn *c;

	if (deny) {
		/* one small best-effort write: the socket buffer of a new connection takes it */
		unsigned char *frame;
		size_t len;
		int err;
		json_t *e = proto_error(PROTO_FAILED, "%s", deny);

		ctl->host->log(ctl->self, VIGIL_LOG_INFO,
		               "refused control client (pid %d, uid %u): %s", (int)pid,
		               (unsigned)uid, deny);
		frame = e ? proto_encode(e, &len, &err) : NULL;
		json_decref(e);
		if (frame) {
			ssize_t n = send(fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);

			(void)n;
			free(frame);
		}
		return -EPERM;
	}
	c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->ctl = ctl;
	c->fd = fd;
	c->uid = uid;
	c->pid = pid;
	c->wmask = VIGIL_FD_IN;
	c->w = ctl->host->watch_fd(ctl->self, fd, VIGIL_FD_IN, conn_cb, c);
	if (!c->w) {
		free(c);
		return -ENOMEM;
	}
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->nconns++;
	return 0;
}

void ctl_conn_idle(struct ctl_conn *c)
{
	c->busy = CTL_IDLE;
	/* finished inside its own dispatch: conn_process() picks up the next request, and
	 * recursing here would let a pipelining client grow the stack without bound */
	if (c->dead || c->in_dispatch)
		return;
	conn_process(c);
	conn_set_mask(c);
	if (c->closing)
		conn_flush(c);
}

void ctl_conn_free(struct ctl_conn *c)
{
	struct ctl *ctl = c->ctl;

	ctl_wait_free(c);
	ctl_pending_free(c);
	ctl_evstream_free(c);
	ctl_logf_free(c);
	if (c->w)
		ctl->host->unwatch(c->w);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	free(c->in);
	free(c->out);
	free(c);
}

int ctl_conn_reap(struct ctl_conn *c)
{
	if (!c->dead)
		return 0;
	ctl_conn_free(c);
	return 1;
}

void ctl_conn_close_all(struct ctl *ctl)
{
	static const unsigned char end[] = "{\"ok\":true,\"end\":true}";
	unsigned char frame[PROTO_HDR_LEN + sizeof end - 1];

	proto_put_header(frame, sizeof end - 1);
	memcpy(frame + PROTO_HDR_LEN, end, sizeof end - 1);
	while (ctl->conns) {
		struct ctl_conn *c = ctl->conns;

		if (c->busy == CTL_WAITING)
			ctl_wait_abort(c, "vigild is shutting down");
		else if (c->busy == CTL_PENDING)
			ctl_pending_abort(c, "vigild is shutting down");
		else if (c->busy == CTL_STREAM_EVENTS || c->busy == CTL_STREAM_LOGS)
			ctl_send_frame(c, frame, sizeof frame);
		ctl_conn_free(c);
	}
}
