/* vigilctl.c — the command-line client of vigild (SPEC §1, §4), built on libvigil-client. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vigil/client.h>
#include <vigil/vigil.h>

#include "conf.h"
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
    "  run [--pool P] [--name N] [--type T] [--priority L] [--timeout D] [--cwd DIR]\n"
    "      [--env K=V]... [--wait] -- CMD [ARG...]\n"
    "                                           submit a task; print its id (or wait for it)\n"
    "  wait ID [--timeout D]                    wait for a task; exit with its exit code\n"
    "  cancel ID [--wait]                       cancel a queued or running task\n"
    "  ps [NAME] [--state S] [--health H] [--type T] [--priority L] [--tag T]\n"
    "     [--since D] [--until D] [--history] [--kind program|task] [--limit N]\n"
    "                                           programs and tasks, live or from the history\n"
    "  stats [--by type|program|pool] [--since D]\n"
    "                                           runs, success rate, durations, cpu, rss\n"
    "  health NAME                              score, factors, trend, alerts, violations\n"
    "  report [--format xml|json] [-o FILE] [--since D]\n"
    "                                           the full report (XML unless --json)\n"
    "  logs NAME [-f] [-n N] [--stderr]         captured output\n"
    "  events [-f] [--type T]... [--subject S]  recent events, or follow them\n"
    "  reload                                   re-read the configuration\n"
    "  reexec                                   re-execute vigild in place (children stay)\n"
    "  plugins                                  loaded plugins\n"
    "  shutdown                                 stop everything and exit vigild\n"
    "  version                                  vigild's version\n"
    "\n"
    "Exit codes: 0 ok, 1 failed, 2 usage, 3 no such program or task, 4 cannot reach vigild,\n"
    "100 configuration rejected, 111 temporary failure (a full queue). wait and run --wait\n"
    "exit with the task's code (128+N for signal N, 124 timeout, 125 cancelled).\n";

#define REPLY_MARGIN_MS 30000
#define DEFAULT_WAIT_MS 60000 /* the daemon's default for start/stop/restart */

int vigilctl_json;

static void vprint_error(int code, const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "vigilctl: %s\n", msg);
	if (vigilctl_json) {
		json_t *e = json_pack("{s:{s:i,s:s}}", "error", "code", code, "message", msg);

		if (e) {
			json_dumpf(e, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(e);
		}
	}
}

/* Errors go to stderr; with --json the same error is also the JSON document on stdout. */
int vigilctl_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(code, fmt, ap);
	va_end(ap);
	return code;
}

int vigilctl_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(EX_USAGE, fmt, ap);
	va_end(ap);
	fputs(usage_line, stderr);
	return EX_USAGE;
}

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
		if (!path)
			*code = vigilctl_error(EX_CONFIG, "%s", err.msg);
		return path;
	}
	*code =
	    vigilctl_error(EX_USAGE, "no control socket: use -s SOCKET, VIGIL_SOCKET or -c CONFIG");
	return NULL;
}

/* json_dump_callback sink: jansson writes a document in thousands of small pieces, which are
 * gathered here and written to stdout in large ones. */
struct json_out {
	char buf[1 << 16];
	size_t len;
};

static int json_out_cb(const char *s, size_t n, void *arg)
{
	struct json_out *o = arg;

	if (sizeof o->buf - o->len < n) {
		fwrite(o->buf, 1, o->len, stdout);
		o->len = 0;
		if (n > sizeof o->buf) {
			fwrite(s, 1, n, stdout);
			return 0;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

static void print_json(const json_t *doc, int stream)
{
	static struct json_out out;
	json_t *copy = json_copy((json_t *)doc);

	json_object_del(copy, "ok");
	out.len = 0;
	json_dump_callback(copy, json_out_cb, &out,
	                   (stream ? JSON_COMPACT : JSON_INDENT(2)) | JSON_REAL_PRECISION(12));
	fwrite(out.buf, 1, out.len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(copy);
}

static int waits_for_task(const struct command *cmd, const json_t *req)
{
	return cmd->out == OUT_TASK || ((cmd->out == OUT_RUN || cmd->out == OUT_CANCEL) &&
	                                json_is_true(json_object_get(req, "wait")));
}

/* Shows one reply; returns the exit code it carries. */
static int show_reply(const struct command *cmd, const json_t *req, const json_t *reply, int colour)
{
	const json_t *e = json_object_get(reply, "error");
	const json_t *code = json_object_get(e, "code");
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (e) {
		fprintf(stderr, "vigilctl: %s\n", msg ? msg : "malformed error reply");
		if (vigilctl_json)
			print_json(reply, 0);
		if (!json_is_integer(code) || json_integer_value(code) <= 0 ||
		    json_integer_value(code) > 255)
			return EX_FAILED;
		return (int)json_integer_value(code);
	}
	if (json_is_string(json_object_get(reply, "warning")))
		fprintf(stderr, "vigilctl: %s\n",
		        json_string_value(json_object_get(reply, "warning")));
	if (cmd->out == OUT_REPORT)
		return out_report(reply, vigilctl_output);
	if (vigilctl_json)
		print_json(reply, 0);
	else
		out_reply(stdout, waits_for_task(cmd, req) ? OUT_TASK : cmd->out, reply, colour);
	return waits_for_task(cmd, req) ? out_task_exit(reply) : EX_OK;
}

/* How long the answer may take: the daemon's own wait plus a margin, so a daemon that hangs
 * does not hang us. -1 = no bound (streams, and waits for a task without a timeout). */
static int64_t reply_budget(const struct command *cmd, const json_t *req)
{
	const json_t *wait = json_object_get(req, "timeout_ms");

	if (json_is_true(json_object_get(req, "follow")))
		return -1;
	if (waits_for_task(cmd, req))
		return cmd->out == OUT_TASK && json_is_integer(wait)
		           ? json_integer_value(wait) + REPLY_MARGIN_MS
		           : -1;
	if (!strcmp(cmd->name, "start") || !strcmp(cmd->name, "stop") ||
	    !strcmp(cmd->name, "restart"))
		return (json_is_integer(wait) ? json_integer_value(wait) : DEFAULT_WAIT_MS) +
		       REPLY_MARGIN_MS;
	return REPLY_MARGIN_MS;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int transport_error(struct vigil_client *c, int rc)
{
	/* a reply too big to take is the request's fault, not the daemon's */
	return vigilctl_error(rc == -ENOMEM     ? EX_TEMPFAIL
	                      : rc == -EMSGSIZE ? EX_FAILED
	                                        : EX_UNREACHABLE,
	                      "%s", vigil_client_error(c));
}

/* The next message, parsed once: the library hands it over as vigild wrote it. */
static int recv_reply(struct vigil_client *c, int64_t timeout_ms, json_t **reply)
{
	json_error_t jerr;
	size_t len = 0;
	char *msg;
	int rc = vigil_client_recv_raw(c, &msg, &len, timeout_ms);

	*reply = NULL;
	if (rc < 0)
		return rc;
	*reply = json_loadb(msg, len, 0, &jerr);
	vigil_client_free(msg);
	if (!json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		return -EPROTO;
	}
	return 0;
}

static int talk(const struct command *cmd, json_t *req, const char *path)
{
	struct vigil_client *c;
	char *text = NULL;
	int64_t budget = reply_budget(cmd, req), deadline;
	int err = 0, rc, code = EX_OK, colour;

	text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return vigilctl_error(EX_TEMPFAIL, "out of memory");
	c = vigil_client_connect(path, &err);
	if (!c) {
		free(text);
		return vigilctl_error(EX_UNREACHABLE, "cannot reach vigild at %s: %s", path,
		                      strerror(-err));
	}
	rc = vigil_client_send(c, text);
	free(text);
	if (rc < 0) {
		/* it may have refused us with a reason: read it before giving up */
		json_t *reply = NULL;

		if (recv_reply(c, 1000, &reply) == 0) {
			code = show_reply(cmd, req, reply, 0);
			json_decref(reply);
			vigil_client_close(c);
			return code ? code : EX_UNREACHABLE;
		}
		code = vigilctl_error(EX_UNREACHABLE, "cannot send to vigild at %s: %s", path,
		                      strerror(-rc));
		vigil_client_close(c);
		return code;
	}
	deadline = budget < 0 ? -1 : now_ms() + budget;
	colour = !vigilctl_json && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	for (;;) {
		const json_t *item;
		json_t *reply;

		rc = recv_reply(c,
		                deadline < 0          ? -1
		                : deadline > now_ms() ? deadline - now_ms()
		                                      : 0,
		                &reply);
		if (rc < 0 && rc != -EPROTO) {
			code = transport_error(c, rc);
			break;
		}
		if (!reply) {
			code =
			    vigilctl_error(EX_UNREACHABLE, "vigild at %s sent a bad reply", path);
			break;
		}
		/* a stream item is a message that is neither a reply nor an error */
		item = json_object_get(reply, "stream");
		if (item && !json_object_get(reply, "ok") && !json_object_get(reply, "error")) {
			if (vigilctl_json)
				print_json(item, 1);
			else
				out_stream_item(stdout, cmd->out, item);
			json_decref(reply);
			continue;
		}
		code = json_is_true(json_object_get(reply, "end"))
		           ? EX_OK
		           : show_reply(cmd, req, reply, colour);
		json_decref(reply);
		break;
	}
	vigil_client_close(c);
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

	/* big outputs (status of thousands of programs) go out in large writes; a terminal
	 * keeps its line buffering, and streams flush after each item anyway */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
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
			vigilctl_json = 1;
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
				return vigilctl_usage("unknown option '-%c' or missing value",
				                      optopt);
			return vigilctl_usage("unknown option '%s' or missing value",
			                      argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return vigilctl_usage("no COMMAND given (try vigilctl --help)");
	for (i = 0; i < vigilctl_ncommands; i++)
		if (strcmp(vigilctl_commands[i].name, argv[optind]) == 0)
			cmd = &vigilctl_commands[i];
	if (!cmd)
		return vigilctl_usage("unknown command '%s' (try vigilctl --help)", argv[optind]);
	/* "Every command takes --json", after the command too (up to a "--") */
	for (i = (size_t)optind + 1; i < (size_t)argc && strcmp(argv[i], "--") != 0;) {
		if (strcmp(argv[i], "--json") == 0) {
			vigilctl_json = 1;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - (int)i) * sizeof *argv);
			argc--;
		} else {
			i++;
		}
	}
	req = json_pack("{s:s}", "cmd", cmd->name);
	if (!req)
		return vigilctl_error(EX_TEMPFAIL, "out of memory");
	code = cmd->build(argc - optind, argv + optind, req);
	if (code) {
		json_decref(req);
		return code;
	}
	path = socket_path(opt_socket, opt_config, &code);
	if (path)
		code = talk(cmd, req, path);
	free(path);
	json_decref(req);
	return code;
}
