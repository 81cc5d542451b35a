/* vigilctl.c — the command-line client of vigild's control socket (SPEC §1, §4). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <vigil/vigil.h>

#include "conf.h"
#include "proto.h"
#include "util.h"
#include "vigilctl.h"

static const char usage_line[] =
    "usage: vigilctl [-s SOCKET] [-c CONFIG] [--json] COMMAND [ARGS...]\n";

static const char help_text[] =
    "Talks to a running vigild over its control socket.\n"
    "\n"
    "Options:\n"
    "  -s, --socket PATH   control socket (default: $VIGIL_SOCKET, or the socket of\n"
    "                      [frontend.ctl] in -c CONFIG / $VIGIL_CONFIG)\n"
    "  -c, --config FILE   read the socket path from this vigild configuration\n"
    "      --json          print the reply as one JSON document (streams: JSON Lines)\n"
    "  -h, --help          this help\n"
    "  -V, --version       vigilctl's version\n"
    "\n"
    "Commands:\n"
    "  status [NAME...]                         state of programs (NAME: program, instance,\n"
    "                                           group or all)\n"
    "  start|stop|restart [--no-wait] [--timeout D] NAME...\n"
    "                                           act and wait for the target state\n"
    "  signal SIG NAME...                       send a signal (TERM, SIGHUP, 9, ...)\n"
    "  logs NAME [-f] [-n N] [--stderr]         captured output\n"
    "  events [-f] [--type T]... [--subject S]  recent events, or follow them\n"
    "  plugins                                  loaded plugins\n"
    "  shutdown                                 stop everything and exit vigild\n"
    "  version                                  vigild's version\n"
    "\n"
    "Exit codes: 0 ok, 1 failed, 2 usage, 3 no such program, 4 cannot reach vigild.\n";

#define REPLY_MARGIN_MS 30000
#define DEFAULT_WAIT_MS 60000 /* the daemon's default for start/stop/restart */

static int json_mode;

static void print_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Errors go to stderr; with --json the same error is also the JSON document on stdout. */
static void print_error(int code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "vigilctl: %s\n", msg);
	if (json_mode) {
		json_t *e = proto_error(code, "%s", msg);

		if (e) {
			json_dumpf(e, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(e);
		}
	}
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	print_error(PROTO_USAGE, "%s", msg);
	fputs(usage_line, stderr);
	return PROTO_USAGE;
}

/* ---- building requests ---- */

struct command {
	const char *name;
	enum out_kind out;
	int (*build)(int argc, char **argv, json_t *req); /* 0 or an exit code */
};

static int add_names(json_t *req, int argc, char **argv, int min, const char *what)
{
	json_t *args = json_array();
	int i;

	if (argc < min) {
		json_decref(args);
		return usage_error("%s: expected %s",
		                   json_string_value(json_object_get(req, "cmd")), what);
	}
	for (i = 0; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	json_object_set_new(req, "args", args);
	return 0;
}

/* getopt over a command's own arguments (argv[0] is the command). */
#define SUBOPT_BEGIN() (optind = 0, opterr = 0)

static int bad_option(const char *cmd, char **argv)
{
	if (optopt)
		return usage_error("%s: unknown option '-%c' or missing value", cmd, optopt);
	return usage_error("%s: unknown option '%s' or missing value", cmd, argv[optind - 1]);
}

static int build_names(int argc, char **argv, json_t *req)
{
	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--") != 0)
		return usage_error("%s: unknown option '%s'", argv[0], argv[1]);
	return add_names(req, argc - 1, argv + 1, 0, "");
}

static int build_none(int argc, char **argv, json_t *req)
{
	(void)req;
	if (argc > 1)
		return usage_error("%s takes no arguments", argv[0]);
	return 0;
}

static int build_control(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"no-wait", no_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	int64_t ms;
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "+t:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			json_object_set_new(req, "no_wait", json_true());
			break;
		case 't':
			if (util_parse_duration_ms(optarg, &ms) != 0 || ms <= 0)
				return usage_error("%s: --timeout: expected a duration like 30s or "
				                   "1500ms, got '%s'",
				                   argv[0], optarg);
			json_object_set_new(req, "timeout_ms", json_integer(ms));
			break;
		default:
			return bad_option(argv[0], argv);
		}
	}
	return add_names(req, argc - optind, argv + optind, 1, "at least one NAME");
}

static int build_signal(int argc, char **argv, json_t *req)
{
	int signo;

	if (argc >= 2 && proto_parse_signal(argv[1], &signo) != 0)
		return usage_error("signal: unknown signal '%s' (expected a name like TERM or HUP, "
		                   "or a number)",
		                   argv[1]);
	return add_names(req, argc - 1, argv + 1, 2, "SIG and at least one NAME");
}

static int build_logs(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"lines", required_argument, NULL, 'n'},
	    {"stderr", no_argument, NULL, 'e'},
	    {NULL, 0, NULL, 0},
	};
	int64_t n;
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "fn:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			json_object_set_new(req, "follow", json_true());
			break;
		case 'n':
			if (util_parse_int(optarg, &n) != 0 || n < 0 || n > 100000)
				return usage_error("logs: -n: expected a number of lines from 0 to "
				                   "100000, got '%s'",
				                   optarg);
			json_object_set_new(req, "lines", json_integer(n));
			break;
		case 'e':
			json_object_set_new(req, "stderr", json_true());
			break;
		default:
			return bad_option(argv[0], argv);
		}
	}
	if (argc - optind != 1)
		return usage_error("logs: expected exactly one NAME");
	return add_names(req, 1, argv + optind, 1, "NAME");
}

static int build_events(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"type", required_argument, NULL, 't'},
	    {"subject", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	json_t *types = json_array();
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "ft:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			json_object_set_new(req, "follow", json_true());
			break;
		case 't':
			json_array_append_new(types, json_string(optarg));
			break;
		case 's':
			json_object_set_new(req, "subject", json_string(optarg));
			break;
		default:
			json_decref(types);
			return bad_option(argv[0], argv);
		}
	}
	if (optind < argc) {
		json_decref(types);
		return usage_error("events: unexpected argument '%s'", argv[optind]);
	}
	if (json_array_size(types))
		json_object_set_new(req, "types", types);
	else
		json_decref(types);
	return 0;
}

/* Commands of SPEC §4 that the daemon answers itself (today: "not supported yet"). */
static int build_passthrough(int argc, char **argv, json_t *req)
{
	return add_names(req, argc - 1, argv + 1, 0, "");
}

static const struct command commands[] = {
    {"status", OUT_STATUS, build_names},        {"start", OUT_STATUS, build_control},
    {"stop", OUT_STATUS, build_control},        {"restart", OUT_STATUS, build_control},
    {"signal", OUT_SIGNAL, build_signal},       {"logs", OUT_LOGS, build_logs},
    {"events", OUT_EVENTS, build_events},       {"plugins", OUT_PLUGINS, build_none},
    {"shutdown", OUT_SHUTDOWN, build_none},     {"version", OUT_VERSION, build_none},
    {"run", OUT_GENERIC, build_passthrough},    {"wait", OUT_GENERIC, build_passthrough},
    {"cancel", OUT_GENERIC, build_passthrough}, {"ps", OUT_GENERIC, build_passthrough},
    {"stats", OUT_GENERIC, build_passthrough},  {"health", OUT_GENERIC, build_passthrough},
    {"report", OUT_GENERIC, build_passthrough}, {"reload", OUT_GENERIC, build_passthrough},
};

/* ---- the socket ---- */

static char *socket_path(const char *opt_socket, const char *opt_config, int *code)
{
	const char *env = getenv("VIGIL_SOCKET");
	struct conf_error err;
	char *path;

	if (opt_socket && *opt_socket)
		return strdup(opt_socket);
	if (env && *env)
		return strdup(env);
	if (!opt_config || !*opt_config)
		opt_config = getenv("VIGIL_CONFIG");
	if (opt_config && *opt_config) {
		path = conf_socket_path(opt_config, &err);
		if (!path) {
			print_error(PROTO_CONFIG, "%s", err.msg);
			*code = PROTO_CONFIG;
		}
		return path;
	}
	print_error(PROTO_USAGE, "no control socket: use -s SOCKET, VIGIL_SOCKET or -c CONFIG");
	*code = PROTO_USAGE;
	return NULL;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes: 1 when done, 0 at end of stream before the first byte, -EPIPE when
 * it ends in the middle, -errno on error. */
static int read_all(int fd, unsigned char *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return got ? -EPIPE : 0;
		got += (size_t)n;
	}
	return 1;
}

/* One message. NULL with *code and the error printed when the daemon hung up or sent garbage. */
static json_t *read_msg(int fd, const char *path, int *code)
{
	unsigned char hdr[PROTO_HDR_LEN], *body;
	size_t len = 0;
	char err[256];
	json_t *j;
	int rc;

	*code = PROTO_UNREACHABLE;
	rc = read_all(fd, hdr, sizeof hdr);
	if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
		print_error(PROTO_UNREACHABLE, "vigild at %s did not answer in time", path);
		return NULL;
	}
	if (rc <= 0) {
		print_error(PROTO_UNREACHABLE, "vigild at %s closed the connection %s", path,
		            rc == 0 ? "without replying" : "mid-reply");
		return NULL;
	}
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > PROTO_MAX_MSG) {
		print_error(PROTO_UNREACHABLE, "vigild at %s sent a bad message length (%zu)", path,
		            len);
		return NULL;
	}
	body = malloc(len);
	if (!body) {
		print_error(PROTO_TEMPFAIL, "out of memory");
		*code = PROTO_TEMPFAIL;
		return NULL;
	}
	rc = read_all(fd, body, len);
	if (rc <= 0) {
		free(body);
		print_error(PROTO_UNREACHABLE, "vigild at %s closed the connection mid-reply",
		            path);
		return NULL;
	}
	j = proto_parse((const char *)body, len, err, sizeof err);
	free(body);
	if (!j)
		print_error(PROTO_UNREACHABLE, "vigild at %s sent a bad reply: %s", path, err);
	return j;
}

static void print_json(const json_t *doc, int stream)
{
	json_t *copy = json_copy((json_t *)doc);

	json_object_del(copy, "ok");
	json_dumpf(copy, stdout,
	           (stream ? JSON_COMPACT : JSON_INDENT(2)) | JSON_REAL_PRECISION(12));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(copy);
}

/* Shows one reply; returns the exit code it carries. */
static int show_reply(const struct command *cmd, const json_t *reply, int colour)
{
	const char *msg;
	int code = proto_reply_error(reply, &msg);

	if (code) {
		fprintf(stderr, "vigilctl: %s\n", msg);
		if (json_mode)
			print_json(reply, 0);
		return code;
	}
	if (json_mode)
		print_json(reply, 0);
	else
		out_reply(stdout, cmd->out, reply, colour);
	return 0;
}

/* A daemon that hangs must not hang us: a reply is due within the server-side wait plus a
 * margin. Streams (follow) have no deadline. */
static void set_reply_timeout(int fd, const json_t *req)
{
	const json_t *wait = json_object_get(req, "timeout_ms");
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	int64_t ms = REPLY_MARGIN_MS;
	struct timeval tv;

	if (json_is_true(json_object_get(req, "follow")))
		return;
	if (json_is_integer(wait))
		ms += json_integer_value(wait);
	else if (!strcmp(cmd, "start") || !strcmp(cmd, "stop") || !strcmp(cmd, "restart"))
		ms += DEFAULT_WAIT_MS;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static int run(const struct command *cmd, json_t *req, const char *path)
{
	unsigned char *frame;
	size_t len;
	int fd, err, code, colour;
	json_t *reply;

	frame = proto_encode(req, &len, &err);
	if (!frame) {
		print_error(PROTO_USAGE, "request too large");
		return PROTO_USAGE;
	}
	fd = connect_to(path);
	if (fd < 0) {
		free(frame);
		print_error(PROTO_UNREACHABLE, "cannot reach vigild at %s: %s", path,
		            strerror(errno));
		return PROTO_UNREACHABLE;
	}
	err = write_all(fd, frame, len);
	free(frame);
	if (err < 0) {
		/* it may have refused us with a reason: read it before giving up */
		reply = read_msg(fd, path, &code);
		close(fd);
		if (!reply)
			return PROTO_UNREACHABLE;
		code = show_reply(cmd, reply, 0);
		json_decref(reply);
		return code ? code : PROTO_UNREACHABLE;
	}
	set_reply_timeout(fd, req);
	colour = !json_mode && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	for (;;) {
		const json_t *item;

		reply = read_msg(fd, path, &code);
		if (!reply)
			break;
		/* a stream item is a message that is neither a reply nor an error */
		item = json_object_get(reply, "stream");
		if (item && !json_object_get(reply, "ok") && !json_object_get(reply, "error")) {
			if (json_mode)
				print_json(item, 1);
			else
				out_stream_item(stdout, cmd->out, item);
			json_decref(reply);
			continue;
		}
		if (json_is_true(json_object_get(reply, "end"))) {
			code = 0;
		} else {
			code = show_reply(cmd, reply, colour);
		}
		json_decref(reply);
		break;
	}
	close(fd);
	fflush(stdout);
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	const char *opt_socket = NULL, *opt_config = NULL;
	const struct command *cmd = NULL;
	char *path;
	json_t *req;
	size_t i;
	int c, code = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+s:c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			opt_socket = optarg;
			break;
		case 'c':
			opt_config = optarg;
			break;
		case 'j':
			json_mode = 1;
			break;
		case 'h':
			fputs(usage_line, stdout);
			fputs(help_text, stdout);
			return 0;
		case 'V':
			printf("vigilctl %s\n", VIGIL_VERSION_STRING);
			return 0;
		default:
			if (optopt)
				return usage_error("unknown option '-%c' or missing value", optopt);
			return usage_error("unknown option '%s' or missing value",
			                   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no COMMAND given (try vigilctl --help)");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, argv[optind]) == 0)
			cmd = &commands[i];
	if (!cmd)
		return usage_error("unknown command '%s' (try vigilctl --help)", argv[optind]);
	/* "Every command takes --json", after the command too (up to a "--") */
	for (i = (size_t)optind + 1; i < (size_t)argc && strcmp(argv[i], "--") != 0;) {
		if (strcmp(argv[i], "--json") == 0) {
			json_mode = 1;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - (int)i) * sizeof *argv);
			argc--;
		} else {
			i++;
		}
	}
	req = json_pack("{s:s}", "cmd", cmd->name);
	if (!req) {
		print_error(PROTO_TEMPFAIL, "out of memory");
		return PROTO_TEMPFAIL;
	}
	code = cmd->build(argc - optind, argv + optind, req);
	if (code) {
		json_decref(req);
		return code;
	}
	path = socket_path(opt_socket, opt_config, &code);
	if (path)
		code = run(cmd, req, path);
	free(path);
	json_decref(req);
	return code;
}
