/* notify.c — NOTIFY_SOCKET for ready = notify and watchdog: receive, check the sender, dispatch. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "inst.h"
#include "log.h"
#include "loop.h"
#include "probe.h"
#include "sup_int.h"
#include "util.h"

#define NOTIFY_MAX 4096 /* a longer datagram is ignored whole */
#define NOTIFY_BATCH 64 /* datagrams read per wakeup: the rest wait for the next turn */

struct nsock {
	int fd;
	struct loop_watch *watch;
	int failed;     /* bind failed once: logged, not retried on every spawn */
	char addr[128]; /* the NOTIFY_SOCKET value */
};

static struct {
	char *state_dir;
	struct nsock path, abstract;
	uint64_t reject_ms; /* rate limit of the "ignored" debug lines */
	unsigned suppressed;
} N = {.path = {.fd = -1}, .abstract = {.fd = -1}};

static void reject(const char *fmt, ...) VIGIL_PRINTF(1, 2);
static void reject(const char *fmt, ...)
{
	uint64_t now = loop_now_ms();
	if (N.reject_ms && now - N.reject_ms < 1000) {
		N.suppressed++;
		return;
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (N.suppressed)
		log_debug("notify: %s (and %u more ignored in the last second)", msg, N.suppressed);
	else
		log_debug("notify: %s", msg);
	N.reject_ms = now;
	N.suppressed = 0;
}

/* The instance a sender belongs to: every process of an instance runs in the session that its
 * main process opened (sid == pgid == main pid). NULL for anyone else. */
static struct proc *sender_instance(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields count from the last ')'. */
	char *s = strrchr(buf, ')');
	char state;
	int ppid, pgrp, sid;
	if (!s || sscanf(s + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4 || sid <= 0)
		return NULL;
	struct proc *p = sup_pid_get((pid_t)sid, NULL);
	if (!p || p->pgid != sid)
		return NULL;
	return p;
}

static void dispatch(struct proc *p, char *msg, size_t len, pid_t pid)
{
	if (memchr(msg, '\0', len)) {
		reject("datagram from pid %d (%s) holds a NUL byte: ignored", (int)pid, p->name);
		return;
	}
	msg[len] = '\0';
	char *save = NULL;
	for (char *line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (!eq || eq == line) {
			reject("%s: line without KEY=VALUE from pid %d: ignored", p->name,
			       (int)pid);
			continue;
		}
		*eq = '\0';
		probe_notify(p, line, eq + 1);
	}
}

static void on_readable(int fd, uint32_t events, void *arg)
{
	(void)events;
	(void)arg;
	for (int i = 0; i < NOTIFY_BATCH; i++) {
		char buf[NOTIFY_MAX + 1];
		union {
			struct cmsghdr align;
			char b[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 253)];
		} ctl;
		struct iovec iov = {.iov_base = buf, .iov_len = NOTIFY_MAX};
		struct msghdr mh = {.msg_iov = &iov,
		                    .msg_iovlen = 1,
		                    .msg_control = &ctl,
		                    .msg_controllen = sizeof ctl};
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				reject("recvmsg: %s", strerror(errno));
			return;
		}
		const struct ucred *cred = NULL;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_CREDENTIALS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
				cred = (const struct ucred *)(void *)CMSG_DATA(c);
			} else if (c->cmsg_type == SCM_RIGHTS) {
				/* FDSTORE=1 and the like: we keep no fds for anyone. */
				size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				int fds[253];
				memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
				for (size_t k = 0; k < nfd && k < 253; k++)
					close(fds[k]);
			}
		}
		pid_t pid = cred ? cred->pid : 0;
		if (n == 0) {
			reject("empty datagram from pid %d: ignored", (int)pid);
			continue;
		}
		if (n > NOTIFY_MAX || (mh.msg_flags & MSG_TRUNC)) {
			reject("datagram of %zd bytes from pid %d is over %d bytes: ignored", n,
			       (int)pid, NOTIFY_MAX);
			continue;
		}
		if (pid <= 0) {
			reject("datagram without sender credentials: ignored");
			continue;
		}
		struct proc *p = sender_instance(pid);
		if (!p) {
			reject("datagram from pid %d, which belongs to no supervised instance: "
			       "ignored",
			       (int)pid);
			continue;
		}
		dispatch(p, buf, (size_t)n, pid);
	}
}

static int open_socket(struct nsock *ns, int abstract)
{
	if (ns->fd >= 0)
		return 0;
	if (ns->failed)
		return -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	char path[4096];
	if (abstract) {
		/* Named after state_dir, which one daemon holds at a time (the lock file). */
		uint64_t h = 14695981039346656037ULL;
		for (const char *c = N.state_dir; *c; c++)
			h = (h ^ (unsigned char)*c) * 1099511628211ULL;
		snprintf(ns->addr, sizeof ns->addr, "@vigil-notify-%016llx", (unsigned long long)h);
		size_t n = strlen(ns->addr) - 1;
		memcpy(sa.sun_path + 1, ns->addr + 1, n);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
		snprintf(path, sizeof path, "%s", ns->addr);
	} else {
		snprintf(path, sizeof path, "%s/notify.sock", N.state_dir);
		if (strlen(path) >= sizeof sa.sun_path) {
			log_warn(
			    "notify: %s is too long for a socket path: programs get an abstract "
			    "socket instead",
			    path);
			ns->failed = 1;
			return -1;
		}
		memcpy(sa.sun_path, path, strlen(path) + 1);
		snprintf(ns->addr, sizeof ns->addr, "%s", path);
		len = sizeof sa;
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, len) < 0) {
		log_error("notify: cannot bind %s: %s; ready = notify and watchdog cannot work",
		          path, strerror(errno));
		if (fd >= 0)
			close(fd);
		ns->failed = 1;
		return -1;
	}
	/* Only our own user may write to it: a program running as another user gets the
	 * abstract socket, which has no file mode (its senders are checked all the same). */
	if (!abstract && chmod(path, 0600) < 0)
		log_warn("notify: chmod %s: %s", path, strerror(errno));
	ns->watch = loop_watch(fd, EPOLLIN, on_readable, NULL);
	if (!ns->watch) {
		log_error("notify: cannot watch %s: %s", path, strerror(errno));
		close(fd);
		if (!abstract)
			unlink(path);
		ns->failed = 1;
		return -1;
	}
	ns->fd = fd;
	log_debug("notify: listening on %s", ns->addr);
	return 0;
}

void notify_setup(const char *state_dir)
{
	notify_fini();
	N.state_dir = util_xstrdup(state_dir);
}

const char *notify_address(int abstract)
{
	if (!N.state_dir)
		return NULL;
	if (!abstract && open_socket(&N.path, 0) == 0)
		return N.path.addr;
	if (open_socket(&N.abstract, 1) == 0)
		return N.abstract.addr;
	return NULL;
}

void notify_fini(void)
{
	struct nsock *all[] = {&N.path, &N.abstract};
	for (size_t i = 0; i < 2; i++) {
		struct nsock *ns = all[i];
		if (ns->watch)
			loop_unwatch(ns->watch);
		if (ns->fd >= 0) {
			close(ns->fd);
			/* Only a daemon that exits gets here (a reexec keeps everything open up to
			 * exec, and the next image binds the same name again). */
			if (ns == &N.path)
				unlink(ns->addr);
		}
		ns->watch = NULL;
		ns->fd = -1;
		ns->failed = 0;
	}
	free(N.state_dir);
	N.state_dir = NULL;
	N.reject_ms = 0;
	N.suppressed = 0;
}
