/* main.c — vigild: arguments, config, state dir lock, plugins, then the loop until shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus.h"
#include "conf.h"
#include "healthrec.h"
#include "host.h"
#include "loader.h"
#include "log.h"
#include "loop.h"
#include "modload.h"
#include "probe.h"
#include "spawn.h"
#include "sup.h"
#include "task.h"
#include "util.h"

#define EXIT_USAGE 2
#define EXIT_CONFIG 100
#define EXIT_TEMP 111

static const char usage[] =
	"usage: vigild -c FILE [--check-config]\n"
	"       vigild --version | --help\n";

static const char help[] =
	"vigild runs and watches the programs of an INI configuration file, in the foreground.\n"
	"\n"
	"  -c, --config FILE   the configuration file (required)\n"
	"      --check-config  validate FILE and the plugins it names, then exit\n"
	"      --version       print the version and the plugin ABI, then exit\n"
	"  -h, --help          print this help\n"
	"\n"
	"Signals: TERM/INT/QUIT stop every program in reverse priority order and exit 0;\n"
	"HUP re-reads FILE (only what changed is restarted); USR2 re-executes vigild in place,\n"
	"keeping every program running (an upgrade without downtime).\n"
	"Exit codes: 0 ok, 1 failed, 2 usage, 100 configuration error, 111 temporary failure\n"
	"(resource exhaustion, or another vigild holds the state directory's lock).\n"
	"Environment: VIGIL_PLUGIN_PATH (used when the config sets no plugin_path),\n"
	"NOTIFY_SOCKET (READY=1 is sent there once every autostart program was started).\n";

/* plugin_path default: $VIGIL_PLUGIN_PATH, else the plugin dir next to our own binary (the
 * build tree mirrors the install tree, so this works in both). */
static char **default_plugin_path(void)
{
	const char *env = getenv("VIGIL_PLUGIN_PATH");
	if (env && *env) {
		char **v = util_split_list(env);
		/* ':'-separated: split_list splits on commas only, so redo it here. */
		util_strv_free(v);
		size_t n = 1;
		for (const char *s = env; *s; s++)
			n += *s == ':';
		v = util_xcalloc(n + 1, sizeof *v);
		size_t i = 0;
		const char *s = env;
		while (*s) {
			size_t len = strcspn(s, ":");
			if (len) {
				v[i] = util_xmalloc(len + 1);
				memcpy(v[i], s, len);
				v[i++][len] = '\0';
			}
			s += len + (s[len] == ':');
		}
		return v;
	}
	char dir[PATH_MAX + 64];
	char **v = util_xcalloc(2, sizeof *v);
	v[0] = util_xstrdup(modload_exe_path(VIGIL_PLUGIN_RELDIR, dir, sizeof dir));
	return v;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Holds ${state_dir}/vigild.lock for the life of the process. */
static int take_lock(const char *state_dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/vigild.lock", state_dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		fprintf(stderr, "vigild: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "vigild: another vigild (pid %s) holds %s\n", pid[0] ? pid : "?",
		        path);
		close(fd);
		return -1;
	}
	char buf[32];
	int len = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) < 0)
		log_warn("cannot write %s: %s", path, strerror(errno));
	return fd;
}

/* sd_notify-style readiness for whoever started us (systemd, a test harness). */
static void notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	char msg[64];
	int n = snprintf(msg, sizeof msg, "READY=1\nMAINPID=%d\n", (int)getpid());
	if (sendto(fd, msg, (size_t)n, MSG_NOSIGNAL, (struct sockaddr *)&sa,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_warn("NOTIFY_SOCKET %s: %s", path, strerror(errno));
	close(fd);
}

/* Keeps 0-2 open so no file we open later becomes a child's stdio by accident. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int count_programs(const struct vigil_conf *conf)
{
	int n = 0;
	for (size_t i = 0; i < conf->nprograms; i++)
		n += conf->programs[i].numprocs;
	return n;
}

/* The daemon's long-lived state, for reload and reexec. */
static struct {
	char *config;            /* the -c argument, as given (reload and reexec read it again) */
	char self[PATH_MAX];     /* our binary, resolved at startup: reexec runs what is there now */
	struct vigil_conf *conf; /* the configuration the plugins were started with */
	struct loader_set plugins;
	int reexec_pending;
	char *notify;            /* NOTIFY_SOCKET we were started with: told READY after a reexec */
	struct loop_timer *trim; /* gives the heap freed by a burst of work back to the kernel */
} D;

static void trim_now(void *arg)
{
	(void)arg;
	D.trim = NULL;
	malloc_trim(0);
}

/* Start-up and reload allocate and free a lot (the parsed configuration, one record per
 * program on its way to the store): once that has settled, what was freed in the middle of the
 * heap is returned, so that the resident size is what the daemon holds. */
static void trim_later(void)
{
	if (!D.trim)
		D.trim = loop_timer_add(2000, 0, trim_now, NULL);
}

/* Every autostart program has been asked to start: tell whoever waits for us (READY=1). */
static void all_started(void)
{
	trim_later();
	if (D.notify) {
		setenv("NOTIFY_SOCKET", D.notify, 1);
		notify_ready();
		unsetenv("NOTIFY_SOCKET");
	}
}

static void publish_rejected(const char *file, const char *msg)
{
	struct vigil_ev_config_rejected e = {
		.hdr = {.type = VIGIL_EV_CONFIG_REJECTED, .size = sizeof e},
		.config_file = file,
		.error = msg,
	};
	bus_publish(&e.hdr);
}

/* Loads and checks the configuration file the way startup does, plugins included. The plugins
 * opened for the check are kept in *keep when given (startup: opening them twice would map and
 * relocate every plugin's libraries twice), else closed. */
static struct vigil_conf *load_checked(struct conf_error *err, struct loader_set *keep)
{
	struct vigil_conf *conf = NULL;
	if (conf_load(D.config, &conf, err) < 0)
		return NULL;
	if (!conf->plugin_path || !conf->plugin_path[0]) {
		util_strv_free(conf->plugin_path);
		conf->plugin_path = default_plugin_path();
	}
	struct loader_set probe = {0}, *set = keep ? keep : &probe;
	int r = loader_open(conf, set, err);
	if (!keep || r < 0)
		loader_close(set);
	/* What the checks need (the http_check module for an http:// check) is opened now, so
	 * a missing one is a configuration error, and a reload that needs it changes nothing. */
	if (r == 0)
		r = probe_check_conf(conf, err);
	if (r < 0) {
		if (keep && set->head)
			loader_close(set);
		conf_free(conf);
		return NULL;
	}
	return conf;
}

static int do_reload(char *msg, size_t len)
{
	struct conf_error err;
	struct vigil_conf *conf = load_checked(&err, NULL);
	if (!conf) {
		log_error("reload rejected, nothing changed: %s", err.msg);
		publish_rejected(D.config, err.msg);
		snprintf(msg, len, "%s", err.msg);
		return -1;
	}
	if (sup_reload(conf, msg, len) < 0) {
		log_error("reload rejected, nothing changed: %s", msg);
		publish_rejected(conf->file, msg);
		conf_free(conf);
		return -1;
	}
	trim_later();
	return 0;
}

static void reexec_now(void *arg)
{
	(void)arg;
	D.reexec_pending = 0;
	struct conf_error err;
	/* The next image must start: check its configuration while we can still say no. */
	struct vigil_conf *conf = load_checked(&err, NULL);
	if (!conf) {
		log_error("reexec cancelled, the configuration is rejected: %s", err.msg);
		publish_rejected(D.config, err.msg);
		return;
	}
	conf_free(conf);
	if (access(D.self, X_OK) < 0) {
		log_error("reexec cancelled: %s: %s", D.self, strerror(errno));
		return;
	}
	char state[PATH_MAX];
	snprintf(state, sizeof state, "%s/reexec.state", D.conf->state_dir);
	sup_start_all_finish(); /* the next image takes over what runs, and starts nothing */
	int r = sup_save_state(state);
	if (r < 0) {
		log_error("reexec cancelled: cannot write %s: %s", state, strerror(-r));
		return;
	}
	log_info("re-executing %s (%zu instances handed over)", D.self, sup_count());
	/* Stores flush and frontends close their sockets; the children stay ours. */
	while (bus_pending())
		bus_dispatch(SIZE_MAX);
	loader_close(&D.plugins);
	char *argv[] = {D.self, "-c", D.config, "--reexec-state", state, NULL};
	if (D.notify)
		setenv("NOTIFY_SOCKET", D.notify, 1);
	execv(D.self, argv);
	/* Too late to go back: the plugins are closed. The next start adopts the children. */
	log_error("exec %s failed: %s; exiting (the next vigild adopts the programs)", D.self,
	          strerror(errno));
	_exit(EXIT_TEMP);
}

static int do_reexec(void)
{
	if (sup_shutting_down())
		return -ESHUTDOWN;
	/* Tasks are not handed over to the next image (yet): refuse rather than orphan them. */
	if (task_active() > 0) {
		log_warn("reexec refused: %zu task(s) queued or running; retry when they are done",
		         task_active());
		return -EBUSY;
	}
	if (!D.reexec_pending && loop_timer_add(0, 0, reexec_now, NULL))
		D.reexec_pending = 1;
	return 0;
}

static void on_signal(int signo, void *arg)
{
	(void)arg;
	char msg[CONF_ERR_MAX];
	switch (signo) {
	case SIGCHLD:
		sup_reap();
		break;
	case SIGTERM:
	case SIGINT:
	case SIGQUIT: {
		char why[64];
		snprintf(why, sizeof why, "signal SIG%s", util_signal_name(signo));
		sup_shutdown(why);
		break;
	}
	case SIGHUP:
		log_info("SIGHUP: reloading %s", D.config);
		do_reload(msg, sizeof msg);
		break;
	case SIGUSR2:
		do_reexec();
		break;
	default:
		break;
	}
}

int main(int argc, char **argv)
{
	const char *file = NULL, *reexec_state = NULL;
	int check = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
			file = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			file = a + 9;
		} else if (strcmp(a, "--check-config") == 0) {
			check = 1;
		} else if (strcmp(a, "--reexec-state") == 0 && i + 1 < argc) {
			reexec_state = argv[++i];
		} else if (strcmp(a, "--version") == 0) {
			printf("vigild %s (plugin ABI %d.%d)\n", VIGIL_VERSION_STRING, VIGIL_ABI_MAJOR,
			       VIGIL_ABI_MINOR);
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			fputs("\n", stdout);
			fputs(help, stdout);
			return 0;
		} else {
			fprintf(stderr, "vigild: unknown argument '%s'\n%s", a, usage);
			return EXIT_USAGE;
		}
	}
	if (!file) {
		fprintf(stderr, "vigild: no configuration file: use -c FILE\n%s", usage);
		return EXIT_USAGE;
	}
	ensure_stdio();
	/* Large buffers (a status reply for thousands of programs, a report) get their own
	 * mapping, returned when freed, instead of growing the heap for good. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	D.config = util_xstrdup(file);
	if (!realpath("/proc/self/exe", D.self))
		snprintf(D.self, sizeof D.self, "%s", argv[0]);

	struct conf_error err;
	struct loader_set *plugins = &D.plugins;
	struct vigil_conf *conf = load_checked(&err, check ? NULL : plugins);
	if (!conf) {
		fprintf(stderr, "vigild: %s\n", err.msg);
		free(D.config);
		return EXIT_CONFIG;
	}
	D.conf = conf;
	if (check) {
		printf("vigild: %s: configuration OK (%d program instances, %zu plugin instances)\n",
		       conf->file, count_programs(conf), conf->nplugins);
		conf_free(conf);
		free(D.config);
		return 0;
	}
	int rc = EXIT_TEMP, lockfd = -1;
	char *notify = NULL;
	int r = mkdir_p(conf->state_dir, 0750);
	if (r < 0) {
		fprintf(stderr, "vigild: cannot create state_dir %s: %s\n", conf->state_dir,
		        strerror(-r));
		goto out_plugins;
	}
	lockfd = take_lock(conf->state_dir);
	if (lockfd < 0)
		goto out_plugins;
	r = log_open(conf->log_file);
	if (r < 0) {
		fprintf(stderr, "vigild: cannot open log_file %s: %s\n", conf->log_file, strerror(-r));
		goto out_plugins;
	}
	log_set_level((enum vigil_log_level)conf->log_level);
	if (geteuid() != 0)
		log_info("not running as root: priorities high and critical cannot lower nice or "
		         "oom_score_adj below 0 (low and normal still apply), and programs with "
		         "user or group cannot start");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn("cannot become a child subreaper: %s", strerror(errno));
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	spawn_init();
	/* Our own readiness socket is for us only, never for the programs we start. */
	notify = getenv("NOTIFY_SOCKET") ? util_xstrdup(getenv("NOTIFY_SOCKET")) : NULL;
	D.notify = notify;
	unsetenv("NOTIFY_SOCKET");

	static const int sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2, 0};
	r = loop_init(sigs);
	if (r < 0 || bus_init() < 0) {
		log_error("cannot set up the event loop: %s", strerror(-r));
		goto out_plugins;
	}
	loop_on_signal(on_signal, NULL);
	host_set_daemon(sup_shutdown, do_reload, do_reexec);
	const struct vigil_host *host = host_table(plugins, conf->state_dir);
	loader_set_release_hook(host_release_instance);
	if (loader_init_all(plugins, host, &err) < 0) {
		log_error("%s", err.msg);
		rc = EXIT_CONFIG;
		goto out_loop;
	}
	sup_init(conf, plugins);
	task_init(conf, plugins);
	healthrec_init();
	if (loader_start_all(plugins, &err) < 0) {
		log_error("%s", err.msg);
		goto out_loop;
	}

	log_info("vigild %s started, pid %d, %zu program instances, config %s", VIGIL_VERSION_STRING,
	         (int)getpid(), sup_count(), conf->file);
	struct vigil_ev_supervisor_started started = {
		.hdr = {.type = VIGIL_EV_SUPERVISOR_STARTED, .size = sizeof started},
		.pid = getpid(),
		.version = VIGIL_VERSION_STRING,
		.config_file = conf->file,
		.programs = (uint32_t)sup_count(),
	};
	bus_publish(&started.hdr);
	if (reexec_state) {
		r = sup_restore_state(reexec_state);
		if (r < 0)
			log_error("cannot read the reexec state %s: %s; adopting from the registry",
			          reexec_state, strerror(-r));
		unlink(reexec_state);
	}
	if (!reexec_state || r < 0)
		sup_recover(conf->orphans);
	sup_start_all(all_started);
	rc = loop_run();
	while (bus_pending())
		bus_dispatch(SIZE_MAX);
	loader_stop_all(plugins);
	while (bus_pending())
		bus_dispatch(SIZE_MAX);
	log_info("vigild stopped");
out_loop:
	/* Policies still hold per-instance memory: free the instances before the plugins. */
	task_fini();
	healthrec_fini();
	sup_fini();
	loader_close(plugins);
	bus_fini();
	loop_fini();
out_plugins:
	loader_close(plugins); /* a no-op when already closed */
	free(notify);
	if (lockfd >= 0)
		close(lockfd);
	conf_free(conf);
	free(D.config);
	return rc;
}
