/* vigilctl_args.c — vigilctl's commands: their options and arguments, turned into requests. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vigilctl.h"

static int add_names(json_t *req, int argc, char **argv, int min, const char *what)
{
	json_t *args = json_array();
	int i;

	if (argc < min) {
		json_decref(args);
		return vigilctl_usage("%s: expected %s",
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
		return vigilctl_usage("%s: unknown option '-%c' or missing value", cmd, optopt);
	return vigilctl_usage("%s: unknown option '%s' or missing value", cmd, argv[optind - 1]);
}

static int duration_opt(const char *cmd, const char *opt, const char *s, int64_t *ms)
{
	if (util_parse_duration_ms(s, ms) != 0 || *ms <= 0)
		return vigilctl_usage(
		    "%s: %s: expected a duration like 30s, 5m or 1500ms, got '%s'", cmd, opt, s);
	return 0;
}

static int build_names(int argc, char **argv, json_t *req)
{
	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--") != 0)
		return vigilctl_usage("%s: unknown option '%s'", argv[0], argv[1]);
	if (argc > 1 && strcmp(argv[1], "--") == 0) /* "status -- NAME": names only from here */
		return add_names(req, argc - 2, argv + 2, 0, "");
	return add_names(req, argc - 1, argv + 1, 0, "");
}

/* status [NAME...]: the table asks only for its columns, as rows (docs/protocol.md#status), so
 * a big deployment's reply stays small and quick to read; --json shows the whole objects. */
static int build_status(int argc, char **argv, json_t *req)
{
	int rc = build_names(argc, argv, req);

	if (rc == 0 && !vigilctl_json) {
		json_object_set_new(req, "fields",
		                    json_pack("[ssssssss]", "name", "state", "pid", "uptime_s",
		                              "restarts", "cpu_pct", "rss_bytes", "health"));
		json_object_set_new(req, "rows", json_true());
	}
	return rc;
}

static int build_none(int argc, char **argv, json_t *req)
{
	(void)req;
	if (argc > 1)
		return vigilctl_usage("%s takes no arguments", argv[0]);
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
			if (duration_opt(argv[0], "--timeout", optarg, &ms))
				return EX_USAGE;
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

	if (argc >= 2 && util_parse_signal(argv[1], &signo) != 0)
		return vigilctl_usage("signal: unknown signal '%s' (expected a name like TERM or "
		                      "HUP, or a number)",
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
				return vigilctl_usage("logs: -n: expected a number of lines from 0 "
				                      "to 100000, got '%s'",
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
		return vigilctl_usage("logs: expected exactly one NAME");
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
		return vigilctl_usage("events: unexpected argument '%s'", argv[optind]);
	}
	if (json_array_size(types))
		json_object_set_new(req, "types", types);
	else
		json_decref(types);
	return 0;
}

static int is_priority(const char *s)
{
	return !strcmp(s, "low") || !strcmp(s, "normal") || !strcmp(s, "high") ||
	       !strcmp(s, "critical");
}

/* run [OPTIONS] -- CMD [ARG...] */
static int build_run(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"pool", required_argument, NULL, 'p'},
	    {"name", required_argument, NULL, 'n'},
	    {"type", required_argument, NULL, 't'},
	    {"priority", required_argument, NULL, 'P'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"cwd", required_argument, NULL, 'C'},
	    {"env", required_argument, NULL, 'e'},
	    {"wait", no_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	json_t *env = json_array(), *cmd = json_array();
	char dir[PATH_MAX];
	int64_t ms;
	int c, i, rc = 0;

	SUBOPT_BEGIN();
	/* "+": the command starts at the first non-option, so its own options stay its own */
	while (!rc && (c = getopt_long(argc, argv, "+e:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'n':
		case 't':
			json_object_set_new(req,
			                    c == 'p'   ? "pool"
			                    : c == 'n' ? "name"
			                               : "type",
			                    json_string(optarg));
			break;
		case 'P':
			if (!is_priority(optarg))
				rc =
				    vigilctl_usage("run: --priority: expected low, normal, high or "
				                   "critical, got '%s'",
				                   optarg);
			else
				json_object_set_new(req, "priority", json_string(optarg));
			break;
		case 'T':
			rc = duration_opt("run", "--timeout", optarg, &ms);
			if (!rc)
				json_object_set_new(req, "timeout_ms", json_integer(ms));
			break;
		case 'C':
			/* vigild wants it absolute; it runs on this machine, so resolve it here */
			if (!realpath(optarg, dir))
				rc = vigilctl_usage("run: --cwd: %s: %s", optarg, strerror(errno));
			else
				json_object_set_new(req, "cwd", json_string(dir));
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				rc = vigilctl_usage("run: --env: expected KEY=value, got '%s'",
				                    optarg);
			else
				json_array_append_new(env, json_string(optarg));
			break;
		case 'w':
			json_object_set_new(req, "wait", json_true());
			break;
		default:
			rc = bad_option(argv[0], argv);
		}
	}
	if (!rc && optind >= argc)
		rc = vigilctl_usage("run: expected the command: run [OPTIONS] -- CMD [ARG...]");
	for (i = optind; !rc && i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	if (rc) {
		json_decref(env);
		json_decref(cmd);
		return rc;
	}
	json_object_set_new(req, "argv", cmd);
	if (json_array_size(env))
		json_object_set_new(req, "env", env);
	else
		json_decref(env);
	return 0;
}

/* wait ID [--timeout D] */
static int build_wait(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	int64_t ms;
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		if (c != 't')
			return bad_option(argv[0], argv);
		if (duration_opt("wait", "--timeout", optarg, &ms))
			return EX_USAGE;
		json_object_set_new(req, "timeout_ms", json_integer(ms));
	}
	if (argc - optind != 1)
		return vigilctl_usage("wait: expected exactly one task ID");
	return add_names(req, 1, argv + optind, 1, "ID");
}

/* cancel ID [--wait] */
static int build_cancel(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"wait", no_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'w')
			return bad_option(argv[0], argv);
		json_object_set_new(req, "wait", json_true());
	}
	if (argc - optind != 1)
		return vigilctl_usage("cancel: expected exactly one task ID");
	return add_names(req, 1, argv + optind, 1, "ID");
}

/* ps [NAME] [--state S] [--health H] [--type T] [--priority L] [--tag T] [--since D]
 *    [--until D] [--history] [--kind K] [--limit N]; times are checked by the daemon */
static int build_ps(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"health", required_argument, NULL, 'H'},
	    {"type", required_argument, NULL, 't'},
	    {"priority", required_argument, NULL, 'p'},
	    {"tag", required_argument, NULL, 'g'},
	    {"since", required_argument, NULL, 'S'},
	    {"until", required_argument, NULL, 'U'},
	    {"history", no_argument, NULL, 'h'},
	    {"kind", required_argument, NULL, 'k'},
	    {"limit", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const keys[128] = {
	    ['s'] = "state", ['H'] = "health", ['t'] = "type",  ['p'] = "priority",
	    ['g'] = "tag",   ['S'] = "since",  ['U'] = "until", ['k'] = "kind",
	};
	int64_t n;
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			json_object_set_new(req, "history", json_true());
		} else if (c == 'l') {
			if (util_parse_int(optarg, &n) != 0 || n < 1 || n > 1000000)
				return vigilctl_usage("ps: --limit: expected a number from 1 to "
				                      "1000000, got '%s'",
				                      optarg);
			json_object_set_new(req, "limit", json_integer(n));
		} else if (c > 0 && c < 128 && keys[c]) {
			json_object_set_new(req, keys[c], json_string(optarg));
		} else {
			return bad_option(argv[0], argv);
		}
	}
	if (argc - optind > 1)
		return vigilctl_usage("ps: at most one NAME (got '%s' too)", argv[optind + 1]);
	return add_names(req, argc - optind, argv + optind, 0, "");
}

/* stats [--by type|program|pool] [--since D] */
static int build_stats(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"by", required_argument, NULL, 'b'},
	    {"since", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'b') {
			if (strcmp(optarg, "type") && strcmp(optarg, "program") &&
			    strcmp(optarg, "pool"))
				return vigilctl_usage(
				    "stats: --by: expected type, program or pool, "
				    "got '%s'",
				    optarg);
			json_object_set_new(req, "by", json_string(optarg));
		} else if (c == 'S') {
			json_object_set_new(req, "since", json_string(optarg));
		} else {
			return bad_option(argv[0], argv);
		}
	}
	if (optind < argc)
		return vigilctl_usage("stats: unexpected argument '%s'", argv[optind]);
	return 0;
}

/* health NAME */
static int build_health(int argc, char **argv, json_t *req)
{
	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "--") != 0)
		return vigilctl_usage("health: unknown option '%s'", argv[1]);
	if (argc != 2)
		return vigilctl_usage("health: expected exactly one NAME");
	return add_names(req, 1, argv + 1, 1, "NAME");
}

const char *vigilctl_output;

/* report [--format xml|json] [-o FILE] [--since D]; --json alone asks for json */
static int build_report(int argc, char **argv, json_t *req)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"since", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	const char *format = NULL;
	int c;

	SUBOPT_BEGIN();
	while ((c = getopt_long(argc, argv, "f:o:", opts, NULL)) != -1) {
		if (c == 'f') {
			if (strcmp(optarg, "xml") != 0 && strcmp(optarg, "json") != 0)
				return vigilctl_usage(
				    "report: --format: expected xml or json, got '%s'", optarg);
			format = optarg;
		} else if (c == 'o') {
			if (!*optarg)
				return vigilctl_usage("report: -o: expected a file name");
			vigilctl_output = strcmp(optarg, "-") == 0 ? NULL : optarg;
		} else if (c == 'S') {
			json_object_set_new(req, "since", json_string(optarg));
		} else {
			return bad_option(argv[0], argv);
		}
	}
	if (optind < argc)
		return vigilctl_usage("report: unexpected argument '%s'", argv[optind]);
	json_object_set_new(req, "format",
	                    json_string(format          ? format
	                                : vigilctl_json ? "json"
	                                                : "xml"));
	return 0;
}

const struct command vigilctl_commands[] = {
    {"status", OUT_STATUS, build_status},
    {"start", OUT_STATUS, build_control},
    {"stop", OUT_STATUS, build_control},
    {"restart", OUT_STATUS, build_control},
    {"signal", OUT_SIGNAL, build_signal},
    {"logs", OUT_LOGS, build_logs},
    {"events", OUT_EVENTS, build_events},
    {"plugins", OUT_PLUGINS, build_none},
    {"shutdown", OUT_SHUTDOWN, build_none},
    {"version", OUT_VERSION, build_none},
    {"run", OUT_RUN, build_run},
    {"wait", OUT_TASK, build_wait},
    {"cancel", OUT_CANCEL, build_cancel},
    {"ps", OUT_PS, build_ps},
    {"stats", OUT_STATS, build_stats},
    {"reload", OUT_RELOAD, build_none},
    {"reexec", OUT_REEXEC, build_none},
    {"health", OUT_HEALTH, build_health},
    {"report", OUT_REPORT, build_report},
};
const size_t vigilctl_ncommands = sizeof vigilctl_commands / sizeof vigilctl_commands[0];
