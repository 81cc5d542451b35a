/* proto.h — the control protocol shared by frontend_ctl.so and vigilctl: framing, errors. */
#ifndef VIGIL_CTL_PROTO_H
#define VIGIL_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

/* A message is a 4-byte big-endian length N followed by N bytes of one JSON object in UTF-8.
 * See docs/protocol.md. A request (client to daemon) holds at most PROTO_MAX_MSG bytes: the
 * daemon reads it from anyone allowed to connect. A reply (daemon to client) may hold up to
 * PROTO_MAX_REPLY: it is as big as what the daemon supervises (status of 100 000 programs),
 * and the client trusts its daemon but still bounds its memory. */
#define PROTO_HDR_LEN 4u
#define PROTO_MAX_MSG (1u << 20)
#define PROTO_MAX_REPLY (256u << 20)

/* Exit codes of SPEC §1, used as error codes in replies. */
enum proto_code {
	PROTO_OK = 0,
	PROTO_FAILED = 1,
	PROTO_USAGE = 2,
	PROTO_NOENT = 3,
	PROTO_UNREACHABLE = 4,
	PROTO_CONFIG = 100,
	PROTO_TEMPFAIL = 111,
};

void proto_put_header(unsigned char hdr[PROTO_HDR_LEN], uint32_t n);
/* The length a header announces. */
uint32_t proto_get_header(const unsigned char hdr[PROTO_HDR_LEN]);

/* Looks at the bytes received so far. Returns 0 when more are needed, the whole frame length
 * (header + body) when a complete message is there (*body_len set), or -EMSGSIZE when the
 * length prefix is zero or larger than max (PROTO_MAX_MSG for a request, PROTO_MAX_REPLY for
 * a reply). proto_frame_check() is the request form. */
ssize_t proto_frame_check_max(const unsigned char *buf, size_t len, size_t max, size_t *body_len);
ssize_t proto_frame_check(const unsigned char *buf, size_t len, size_t *body_len);

/* A growing byte buffer that refuses to hold more than max bytes. Errors are sticky (err is
 * -ENOMEM or -EMSGSIZE), so a writer can put many pieces and check once at the end. */
struct proto_buf {
	unsigned char *p;
	size_t len, cap, max;
	int err;
};

/* Makes room for n more bytes: 0, or the (sticky) error. */
int proto_buf_grow(struct proto_buf *b, size_t n);

static inline void proto_buf_put(struct proto_buf *b, const void *s, size_t n)
{
	if (b->err || (b->cap - b->len < n && proto_buf_grow(b, n) != 0))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

#define proto_buf_lit(b, s) proto_buf_put((b), (s), sizeof(s) - 1)

/* A json_dump_callback() sink appending to the struct proto_buf in arg: a tree is encoded
 * straight into a frame, and never past the buffer's limit. */
int proto_buf_dump_cb(const char *s, size_t n, void *arg);

/* Starts a frame in an empty buffer: the header, filled in by proto_buf_frame_end(). */
void proto_buf_frame_begin(struct proto_buf *b);
/* Writes the header of the frame b holds: 0, or b's error (-EMSGSIZE when the body is larger
 * than b->max minus the header). */
int proto_buf_frame_end(struct proto_buf *b);

/* Serialises obj (compact) into one malloc'd frame. NULL with *err = -EMSGSIZE when the JSON
 * text is larger than max (proto_encode: PROTO_MAX_MSG), -ENOMEM when out of memory. */
unsigned char *proto_encode_max(const json_t *obj, size_t max, size_t *frame_len, int *err);
unsigned char *proto_encode(const json_t *obj, size_t *frame_len, int *err);

/* Parses a message body: it must be valid UTF-8 JSON holding exactly one object. Returns the
 * new reference, or NULL with a message for the user in err. */
json_t *proto_parse(const char *body, size_t len, char *err, size_t errlen);

/* Checks a parsed request: a "cmd" string member. Returns the command, or NULL with err. */
const char *proto_request_cmd(const json_t *req, char *err, size_t errlen);

/* {"error": {"code": code, "message": ...}}; NULL only on ENOMEM. */
json_t *proto_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reads an error reply: returns its code (>0) and points *message at its text, or 0 when the
 * reply is not an error. A malformed error object gives PROTO_FAILED. */
int proto_reply_error(const json_t *reply, const char **message);

/* Signal names: "TERM", "SIGTERM", "term", "15". 0 or -EINVAL. */
int proto_parse_signal(const char *s, int *signo);
/* "TERM" for SIGTERM; NULL when unknown. */
const char *proto_signal_name(int signo);

#endif
