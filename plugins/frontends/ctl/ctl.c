/* ctl.c — frontend_ctl.so: the control socket (creation, peer checks, accept) and descriptor. */
#include "ctl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG(ctl, lvl, ...) (ctl)->host->log((ctl)->self, VIGIL_LOG_##lvl, __VA_ARGS__)

static const struct vigil_config_key ctl_keys[] = {
    {"socket", VIGIL_KEY_PATH, "${state_dir}/vigil.sock", 0,
     "path of the control socket vigilctl connects to", NULL},
    {"mode", VIGIL_KEY_MODE, "0660", 0, "permissions of the socket file", NULL},
    {"allow_uids", VIGIL_KEY_LIST, NULL, 0,
     "users (names or numbers) allowed besides root and the daemon's own user", NULL},
    {"allow_groups", VIGIL_KEY_LIST, NULL, 0, "groups (names or numbers) whose members are allowed",
     NULL},
    VIGIL_KEYS_END,
};

static int ctl_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct ctl *ctl = calloc(1, sizeof *ctl);

	if (!ctl)
		return -ENOMEM;
	ctl->host = host;
	ctl->self = self;
	ctl->listen_fd = -1;
	ctl->euid = geteuid();
	ctl->lossless.cap = CTL_RING_LOSSLESS;
	ctl->lossy.cap = CTL_RING_LOSSY;
	ctl->no_args = json_array();
	if (!ctl->no_args) {
		free(ctl);
		return -ENOMEM;
	}
	*state = ctl;
	return 0;
}

/* Splits a comma-separated list into trimmed, non-empty items (modified in place). */
static size_t split_list(char *s, char **items, size_t max)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*tok == '"' && end - tok >= 2 && end[-1] == '"') {
			*--end = '\0';
			tok++;
		}
		if (*tok && n < max)
			items[n++] = tok;
	}
	return n;
}

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end || *out > 0x7fffffffUL ? -EINVAL : 0;
}

/* Resolves names to ids at configure time, so that accept() never calls into NSS. */
static int resolve_ids(struct ctl *ctl, const struct vigil_config *cfg, const char *key, int groups)
{
	const char *v = ctl->host->cfg_string(cfg, key);
	char *copy, *items[256];
	unsigned *ids;
	size_t n, i;

	if (!v || !*v)
		return 0;
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	n = split_list(copy, items, sizeof items / sizeof items[0]);
	ids = calloc(n ? n : 1, sizeof *ids);
	if (!ids) {
		free(copy);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		unsigned long id;

		if (parse_id(items[i], &id) == 0) {
			ids[i] = (unsigned)id;
		} else if (groups) {
			struct group *gr = getgrnam(items[i]);

			if (!gr)
				goto unknown;
			ids[i] = gr->gr_gid;
		} else {
			struct passwd *pw = getpwnam(items[i]);

			if (!pw)
				goto unknown;
			ids[i] = pw->pw_uid;
		}
	}
	if (groups) {
		ctl->allow_gids = (gid_t *)ids;
		ctl->n_allow_gids = n;
	} else {
		ctl->allow_uids = (uid_t *)ids;
		ctl->n_allow_uids = n;
	}
	free(copy);
	return 0;
unknown:
	LOG(ctl, ERROR, "%s: no such %s '%s' (expected a %s name or number)", key,
	    groups ? "group" : "user", items[i], groups ? "group" : "user");
	free(ids);
	free(copy);
	return -EINVAL;
}

static int ctl_configure(void *state, const struct vigil_config *cfg)
{
	struct ctl *ctl = state;
	const char *path = ctl->host->cfg_string(cfg, "socket");
	const char *mode;
	int rc;

	_Static_assert(sizeof(uid_t) == sizeof(unsigned) && sizeof(gid_t) == sizeof(unsigned),
	               "uid_t and gid_t are stored as unsigned");
	if (!path || !*path) {
		LOG(ctl, ERROR, "socket: expected the path of the control socket");
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		LOG(ctl, ERROR,
		    "socket: path too long for a Unix socket (%zu bytes, at most %zu): %s",
		    strlen(path), sizeof(((struct sockaddr_un *)0)->sun_path) - 1, path);
		return -EINVAL;
	}
	ctl->socket_path = strdup(path);
	if (!ctl->socket_path)
		return -ENOMEM;
	/* parsed here as octal: a generic size getter would read "0660" as decimal */
	mode = ctl->host->cfg_string(cfg, "mode");
	if (mode) {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(mode, &end, 8);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || *end || end == mode || m > 07777) {
			LOG(ctl, ERROR, "mode: expected an octal file mode like 0660, got '%s'",
			    mode);
			return -EINVAL;
		}
		ctl->mode = (mode_t)m;
	} else {
		ctl->mode = 0660;
	}
	rc = resolve_ids(ctl, cfg, "allow_uids", 0);
	if (rc == 0)
		rc = resolve_ids(ctl, cfg, "allow_groups", 1);
	return rc;
}

/* The supplementary groups of a peer, from /proc/PID/status (no NSS lookups on the loop). */
static int peer_in_groups(const struct ctl *ctl, pid_t pid, gid_t gid)
{
	char path[64], line[4096];
	FILE *f;
	size_t i;
	int found = 0;

	for (i = 0; i < ctl->n_allow_gids; i++)
		if (ctl->allow_gids[i] == gid)
			return 1;
	if (pid <= 0 || ctl->n_allow_gids == 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *p = line + 7, *end;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (;;) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			for (i = 0; i < ctl->n_allow_gids; i++)
				if (ctl->allow_gids[i] == (gid_t)g)
					found = 1;
			p = end;
		}
		break;
	}
	fclose(f);
	return found;
}

static int peer_allowed(const struct ctl *ctl, const struct ucred *cr)
{
	size_t i;

	if (cr->uid == 0 || cr->uid == ctl->euid)
		return 1;
	for (i = 0; i < ctl->n_allow_uids; i++)
		if (ctl->allow_uids[i] == cr->uid)
			return 1;
	return peer_in_groups(ctl, cr->pid, cr->gid);
}

static void listen_cb(int fd, uint32_t events, void *arg);

static void accept_retry_cb(void *arg)
{
	struct ctl *ctl = arg;

	ctl->accept_retry = NULL;
	if (ctl->listen_fd >= 0 && !ctl->listen_w)
		ctl->listen_w =
		    ctl->host->watch_fd(ctl->self, ctl->listen_fd, VIGIL_FD_IN, listen_cb, ctl);
}

static void listen_cb(int fd, uint32_t events, void *arg)
{
	struct ctl *ctl = arg;
	int i;

	(void)events;
	/* bounded, so a flood of connections cannot starve the loop */
	for (i = 0; i < 16; i++) {
		struct ucred cr;
		socklen_t len = sizeof cr;
		char deny[128] = "";
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the pending connection stays queued: pause instead of spinning */
				LOG(ctl, WARN,
				    "cannot accept a control connection: %s; retrying in 1s",
				    strerror(errno));
				ctl->host->unwatch(ctl->listen_w);
				ctl->listen_w = NULL;
				if (!ctl->accept_retry)
					ctl->accept_retry = ctl->host->timer_add(
					    ctl->self, 1000, 0, accept_retry_cb, ctl);
			}
			return;
		}
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
			close(cfd);
			continue;
		}
		if (ctl->nconns >= CTL_MAX_CONNS)
			snprintf(deny, sizeof deny, "too many control connections (at most %d)",
			         CTL_MAX_CONNS);
		else if (!peer_allowed(ctl, &cr))
			snprintf(deny, sizeof deny, "permission denied for uid %u",
			         (unsigned)cr.uid);
		if (ctl_conn_accept(ctl, cfd, cr.uid, cr.pid, deny[0] ? deny : NULL) != 0)
			close(cfd);
	}
}

/* An existing socket file is removed only when nobody answers on it, so a second daemon
 * configured with the same socket cannot steal the first one's. */
static int clear_stale(struct ctl *ctl, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(ctl->socket_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		LOG(ctl, ERROR,
		    "socket: %s exists and is not a socket; remove it or choose another path",
		    ctl->socket_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		LOG(ctl, ERROR, "socket: another vigild is answering on %s", ctl->socket_path);
		return -EADDRINUSE;
	}
	close(fd);
	if (unlink(ctl->socket_path) != 0 && errno != ENOENT)
		return -errno;
	LOG(ctl, INFO, "removed stale control socket %s", ctl->socket_path);
	return 0;
}

static int ctl_start(void *state)
{
	struct ctl *ctl = state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, rc;

	memcpy(sa.sun_path, ctl->socket_path, strlen(ctl->socket_path) + 1);
	rc = clear_stale(ctl, &sa);
	if (rc < 0) {
		if (rc != -EEXIST && rc != -EADDRINUSE)
			LOG(ctl, ERROR, "socket: cannot check %s: %s", ctl->socket_path,
			    strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* the socket is created with the right permissions, never briefly wider */
	old = umask((mode_t)(~ctl->mode & 0777));
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || chmod(ctl->socket_path, ctl->mode) != 0 || listen(fd, 64) != 0 ||
	    stat(ctl->socket_path, &st) != 0) {
		rc = -errno;
		LOG(ctl, ERROR, "socket: cannot listen on %s: %s", ctl->socket_path,
		    strerror(errno));
		close(fd);
		return rc;
	}
	ctl->sock_dev = st.st_dev;
	ctl->sock_ino = st.st_ino;
	ctl->listen_fd = fd;
	ctl->listen_w = ctl->host->watch_fd(ctl->self, fd, VIGIL_FD_IN, listen_cb, ctl);
	if (!ctl->listen_w) {
		rc = -errno;
		unlink(ctl->socket_path);
		close(fd);
		ctl->listen_fd = -1;
		return rc ? rc : -ENOMEM;
	}
	ctl_events_start(ctl);
	LOG(ctl, INFO, "listening on %s", ctl->socket_path);
	return 0;
}

/* Existing connections stay until fini(), so `events -f` sees the whole shutdown. */
static void ctl_stop(void *state)
{
	struct ctl *ctl = state;
	struct stat st;

	if (ctl->accept_retry) {
		ctl->host->timer_cancel(ctl->accept_retry);
		ctl->accept_retry = NULL;
	}
	if (ctl->listen_w) {
		ctl->host->unwatch(ctl->listen_w);
		ctl->listen_w = NULL;
	}
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		ctl->listen_fd = -1;
		/* only our own file: another daemon may have replaced it */
		if (stat(ctl->socket_path, &st) == 0 && st.st_dev == ctl->sock_dev &&
		    st.st_ino == ctl->sock_ino)
			unlink(ctl->socket_path);
	}
}

static void ctl_fini(void *state)
{
	struct ctl *ctl = state;

	ctl_stop(ctl);
	ctl_conn_close_all(ctl);
	ctl_events_fini(ctl);
	free(ctl->allow_uids);
	free(ctl->allow_gids);
	free(ctl->socket_path);
	json_decref(ctl->no_args);
	free(ctl);
}

static const struct vigil_frontend_ops ctl_ops = {.size = sizeof(struct vigil_frontend_ops)};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_FRONTEND, .name = "ctl", .version = VIGIL_VERSION_STRING,
                    .description = "control socket for vigilctl (JSON over a Unix socket)",
                    .keys = ctl_keys, .init = ctl_init, .configure = ctl_configure,
                    .start = ctl_start, .stop = ctl_stop, .fini = ctl_fini, .ops = &ctl_ops);
