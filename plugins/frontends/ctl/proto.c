/* proto.c — control socket framing, message building, request checks and error replies. */
#include "proto.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void proto_put_header(unsigned char hdr[PROTO_HDR_LEN], uint32_t n)
{
	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
}

uint32_t proto_get_header(const unsigned char hdr[PROTO_HDR_LEN])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

ssize_t proto_frame_check_max(const unsigned char *buf, size_t len, size_t max, size_t *body_len)
{
	uint32_t n;

	if (len < PROTO_HDR_LEN)
		return 0;
	n = proto_get_header(buf);
	if (n == 0 || n > max)
		return -EMSGSIZE;
	if (len - PROTO_HDR_LEN < n)
		return 0;
	*body_len = n;
	return (ssize_t)(PROTO_HDR_LEN + n);
}

ssize_t proto_frame_check(const unsigned char *buf, size_t len, size_t *body_len)
{
	return proto_frame_check_max(buf, len, PROTO_MAX_MSG, body_len);
}

/* ---- building messages ---- */

int proto_buf_grow(struct proto_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : b->max < 1024 ? b->max : 1024;
	unsigned char *p;

	if (b->err)
		return b->err;
	if (n > b->max || b->len > b->max - n) {
		b->err = -EMSGSIZE;
		return b->err;
	}
	while (cap - b->len < n)
		cap = cap > b->max / 2 ? b->max : cap * 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void proto_buf_frame_begin(struct proto_buf *b)
{
	static const unsigned char none[PROTO_HDR_LEN];

	b->len = 0;
	proto_buf_put(b, none, PROTO_HDR_LEN);
}

int proto_buf_frame_end(struct proto_buf *b)
{
	if (!b->err && b->len <= PROTO_HDR_LEN)
		b->err = -EINVAL;
	if (b->err)
		return b->err;
	proto_put_header(b->p, (uint32_t)(b->len - PROTO_HDR_LEN));
	return 0;
}

int proto_buf_dump_cb(const char *s, size_t n, void *arg)
{
	struct proto_buf *b = arg;

	proto_buf_put(b, s, n);
	return b->err ? -1 : 0;
}

unsigned char *proto_encode_max(const json_t *obj, size_t max, size_t *frame_len, int *err)
{
	struct proto_buf b = {.max = max + PROTO_HDR_LEN};

	proto_buf_frame_begin(&b);
	if (json_dump_callback(obj, proto_buf_dump_cb, &b,
	                       JSON_COMPACT | JSON_REAL_PRECISION(12)) != 0 &&
	    !b.err)
		b.err = -ENOMEM;
	*err = proto_buf_frame_end(&b);
	if (*err) {
		free(b.p);
		return NULL;
	}
	*frame_len = b.len;
	return b.p;
}

unsigned char *proto_encode(const json_t *obj, size_t *frame_len, int *err)
{
	return proto_encode_max(obj, PROTO_MAX_MSG, frame_len, err);
}

json_t *proto_parse(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		snprintf(err, errlen, "malformed JSON at byte %d: %s", jerr.position, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		snprintf(err, errlen, "a message must be a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

const char *proto_request_cmd(const json_t *req, char *err, size_t errlen)
{
	const json_t *cmd = json_object_get(req, "cmd");

	if (!cmd) {
		snprintf(err, errlen, "request has no \"cmd\" member");
		return NULL;
	}
	if (!json_is_string(cmd) || json_string_length(cmd) == 0) {
		snprintf(err, errlen, "\"cmd\" must be a non-empty string");
		return NULL;
	}
	return json_string_value(cmd);
}

json_t *proto_error(int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *text;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	text = json_string(msg);
	if (!text) {
		/* messages quote user input, which may be any bytes: keep them printable */
		for (i = 0; msg[i]; i++)
			if ((unsigned char)msg[i] >= 0x80)
				msg[i] = '?';
		text = json_string(msg);
	}
	return json_pack("{s:{s:i,s:o}}", "error", "code", code, "message", text);
}

int proto_reply_error(const json_t *reply, const char **message)
{
	const json_t *e = json_object_get(reply, "error");
	const json_t *code, *msg;

	if (!e)
		return 0;
	code = json_object_get(e, "code");
	msg = json_object_get(e, "message");
	*message = json_is_string(msg) ? json_string_value(msg) : "malformed error reply";
	if (!json_is_integer(code) || json_integer_value(code) <= 0 ||
	    json_integer_value(code) > 255)
		return PROTO_FAILED;
	return (int)json_integer_value(code);
}

int proto_parse_signal(const char *s, int *signo)
{
	char *end;
	long v;
	int i;

	while (isspace((unsigned char)*s))
		s++;
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		v = strtol(s, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || *end || v <= 0 || v >= NSIG)
			return -EINVAL;
		*signo = (int)v;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 1; i < NSIG; i++) {
		const char *name = proto_signal_name(i);

		if (name && strcasecmp(name, s) == 0) {
			*signo = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *proto_signal_name(int signo)
{
	if (signo <= 0 || signo >= NSIG)
		return NULL;
	/* glibc >= 2.32 has the table; real-time signals have no abbreviation there */
	return sigabbrev_np(signo);
}
