/* proto.h — the control protocol shared by frontend_ctl.so and vigilctl: framing, errors. */
#ifndef VIGIL_CTL_PROTO_H
#define VIGIL_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* A message is a 4-byte big-endian length N (1 <= N <= PROTO_MAX_MSG) followed by N bytes of
 * one JSON object in UTF-8. See docs/protocol.md. */
#define PROTO_HDR_LEN 4u
#define PROTO_MAX_MSG (1u << 20)

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

/* Looks at the bytes received so far. Returns 0 when more are needed, the whole frame length
 * (header + body) when a complete message is there (*body_len set), or -EMSGSIZE when the
 * length prefix is zero or larger than PROTO_MAX_MSG. */
ssize_t proto_frame_check(const unsigned char *buf, size_t len, size_t *body_len);

/* Serialises obj (compact) into one malloc'd frame. NULL with *err = -EMSGSIZE when the JSON
 * text is larger than PROTO_MAX_MSG, -ENOMEM when out of memory. */
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
