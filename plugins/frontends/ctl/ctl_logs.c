/* ctl_logs.c — logs NAME: the tail of a captured log file, and follow it through rotations. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/vjson.h"

#define TAIL_MAX (512u * 1024) /* bytes read from the end of a log for its tail */
#define TAIL_CHUNK (16u * 1024)
#define LINE_MAX_LEN (64u * 1024) /* a longer line is sent in pieces */
#define POLL_MS 250               /* when inotify is unavailable */

struct ctl_logf {
	char *path;
	char *base; /* file name inside its directory (inotify reports those) */
	int fd;     /* -1 while the file does not exist */
	dev_t dev;
	ino_t ino;
	off_t off;
	int ino_fd; /* inotify, or -1 when polling */
	struct vigil_watch *w;
	struct vigil_timer *more; /* one-shot: go on reading a backlog */
	struct vigil_timer *poll; /* periodic, without inotify */
	int paused;               /* waiting for the client to read */
	char *partial;            /* the start of a line whose newline has not come yet */
	size_t plen;
};

struct find {
	char name[256];
	char *out, *err;
	int count;
};

static int find_cb(const struct vigil_proc_info *info, void *arg)
{
	struct find *f = arg;

	if (f->count++ == 0) {
		snprintf(f->name, sizeof f->name, "%s", info->name);
		f->out = info->stdout_log ? strdup(info->stdout_log) : NULL;
		f->err = info->stderr_log ? strdup(info->stderr_log) : NULL;
	}
	return 0;
}

static json_t *line_json(const char *s, size_t len)
{
	char *clean = vjson_utf8_clean(s, len);
	json_t *j;

	if (!clean)
		return NULL;
	j = json_string_nocheck(clean);
	free(clean);
	return j;
}

/* The last n lines of fd (size bytes), reading backwards at most TAIL_MAX bytes. */
static int read_tail(int fd, off_t size, int64_t n, json_t *arr)
{
	char *buf;
	size_t got = 0, i, start, nl = 0;
	off_t pos = size;
	json_t *lines;

	if (n == 0 || size == 0)
		return 0;
	buf = malloc(TAIL_MAX);
	lines = json_array();
	if (!buf || !lines) {
		free(buf);
		json_decref(lines);
		return -ENOMEM;
	}
	while (pos > 0 && got < TAIL_MAX && nl <= (size_t)n) {
		size_t chunk = TAIL_CHUNK;
		ssize_t r;

		if ((off_t)chunk > pos)
			chunk = (size_t)pos;
		if (chunk > TAIL_MAX - got)
			chunk = TAIL_MAX - got;
		r = pread(fd, buf + TAIL_MAX - got - chunk, chunk, pos - (off_t)chunk);
		if (r < 0) {
			free(buf);
			json_decref(lines);
			return -errno;
		}
		if ((size_t)r < chunk) /* the file shrank under us: use what is complete */
			break;
		for (i = 0; i < chunk; i++)
			nl += buf[TAIL_MAX - got - chunk + i] == '\n';
		got += chunk;
		pos -= (off_t)chunk;
	}
	{
		char *data = buf + TAIL_MAX - got;
		size_t len = got;

		if (len && data[len - 1] == '\n')
			len--;
		start = 0;
		/* not from the start of the file: the first piece is the end of an older line */
		if (pos > 0) {
			char *p = memchr(data, '\n', len);

			start = p ? (size_t)(p - data) + 1 : len;
		}
		for (i = start; i <= len && got; i++) {
			if (i == len || data[i] == '\n') {
				json_array_append_new(lines, line_json(data + start, i - start));
				start = i + 1;
			}
		}
	}
	for (i = json_array_size(lines) > (size_t)n ? json_array_size(lines) - (size_t)n : 0;
	     i < json_array_size(lines); i++)
		json_array_append(arr, json_array_get(lines, i));
	json_decref(lines);
	free(buf);
	return 0;
}

static int open_log(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

void ctl_logf_free(struct ctl_conn *c)
{
	struct ctl_logf *lf = c->logf;
	const struct vigil_host *h = c->ctl->host;

	if (!lf)
		return;
	if (lf->w)
		h->unwatch(lf->w);
	if (lf->more)
		h->timer_cancel(lf->more);
	if (lf->poll)
		h->timer_cancel(lf->poll);
	if (lf->ino_fd >= 0)
		close(lf->ino_fd);
	if (lf->fd >= 0)
		close(lf->fd);
	free(lf->path);
	free(lf->base);
	free(lf->partial);
	free(lf);
	c->logf = NULL;
}

static void send_line(struct ctl_conn *c, const char *s, size_t len)
{
	ctl_send(c, json_pack("{s:{s:o}}", "stream", "line", line_json(s, len)));
}

/* Sends every complete line of partial + data; keeps the rest for later. */
static void emit(struct ctl_conn *c, const char *data, size_t len)
{
	struct ctl_logf *lf = c->logf;
	size_t i, start = 0;

	for (i = 0; i < len && !c->dead; i++) {
		if (data[i] != '\n')
			continue;
		if (lf->plen) {
			char *p = realloc(lf->partial, lf->plen + (i - start));

			if (!p)
				return;
			memcpy(p + lf->plen, data + start, i - start);
			send_line(c, p, lf->plen + (i - start));
			free(p);
			lf->partial = NULL;
			lf->plen = 0;
		} else {
			send_line(c, data + start, i - start);
		}
		start = i + 1;
	}
	if (start < len && !c->dead) {
		char *p = realloc(lf->partial, lf->plen + (len - start));

		if (!p)
			return;
		memcpy(p + lf->plen, data + start, len - start);
		lf->partial = p;
		lf->plen += len - start;
		if (lf->plen >= LINE_MAX_LEN) {
			send_line(c, lf->partial, lf->plen);
			free(lf->partial);
			lf->partial = NULL;
			lf->plen = 0;
		}
	}
}

static void flush_partial(struct ctl_conn *c)
{
	struct ctl_logf *lf = c->logf;

	if (lf->plen)
		send_line(c, lf->partial, lf->plen);
	free(lf->partial);
	lf->partial = NULL;
	lf->plen = 0;
}

static void more_cb(void *arg);

/* Reads at most one chunk, so a huge backlog never holds the loop; the rest comes from a
 * zero-delay timer, or when the client has read enough of what was sent. */
static void pump(struct ctl_conn *c)
{
	struct ctl_logf *lf = c->logf;
	static char buf[CTL_READ_CHUNK];
	struct stat st, cur;
	ssize_t n;

	if (!lf || c->dead)
		return;
	if (ctl_out_pending(c) > CTL_OUT_HIGH) {
		lf->paused = 1;
		return;
	}
	lf->paused = 0;
	if (lf->fd < 0) {
		int fd = open_log(lf->path, &st);

		if (fd < 0)
			return;
		lf->fd = fd;
		lf->dev = st.st_dev;
		lf->ino = st.st_ino;
		lf->off = 0;
	}
	if (fstat(lf->fd, &cur) == 0 && cur.st_size < lf->off) {
		flush_partial(c); /* truncated in place (copytruncate): start over */
		lf->off = 0;
	}
	n = pread(lf->fd, buf, sizeof buf, lf->off);
	if (n > 0) {
		lf->off += n;
		emit(c, buf, (size_t)n);
		if ((size_t)n == sizeof buf) {
			if (!lf->more && !c->dead)
				lf->more = c->ctl->host->timer_add(c->ctl->self, 0, 0, more_cb, c);
			return;
		}
	}
	/* at the end of the file we have: has the path moved on to a new file (rotation)? */
	if (n >= 0 && !c->dead && stat(lf->path, &st) == 0 &&
	    (st.st_ino != lf->ino || st.st_dev != lf->dev)) {
		flush_partial(c);
		close(lf->fd);
		lf->fd = -1;
		if (!lf->more && !c->dead)
			lf->more = c->ctl->host->timer_add(c->ctl->self, 0, 0, more_cb, c);
	}
}

static void more_cb(void *arg)
{
	struct ctl_conn *c = arg;

	c->logf->more = NULL; /* a fired one-shot is freed by the core */
	pump(c);
	ctl_conn_reap(c);
}

static void logs_poll_cb(void *arg)
{
	struct ctl_conn *c = arg;

	pump(c);
	ctl_conn_reap(c);
}

static void inotify_cb(int fd, uint32_t events, void *arg)
{
	struct ctl_conn *c = arg;
	struct ctl_logf *lf = c->logf;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int relevant = 0, rounds;
	ssize_t n;

	(void)events;
	for (rounds = 0; rounds < 16; rounds++) {
		char *p;

		n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ie = (const struct inotify_event *)(void *)p;

			/* the directory also reports its other files: only ours matter */
			if ((ie->mask & IN_Q_OVERFLOW) ||
			    (ie->len && strcmp(ie->name, lf->base) == 0))
				relevant = 1;
			p += sizeof *ie + ie->len;
		}
	}
	if (relevant)
		pump(c);
	ctl_conn_reap(c);
}

static int logf_start(struct ctl_conn *c, const char *path, int fd, const struct stat *st)
{
	const struct vigil_host *h = c->ctl->host;
	struct ctl_logf *lf = calloc(1, sizeof *lf);
	char *dcopy = strdup(path), *bcopy = strdup(path);
	int rc = 0;

	if (!lf || !dcopy || !bcopy) {
		rc = -ENOMEM;
		goto out;
	}
	lf->fd = fd;
	lf->ino_fd = -1;
	if (fd >= 0) {
		lf->dev = st->st_dev;
		lf->ino = st->st_ino;
		lf->off = st->st_size;
	}
	lf->path = strdup(path);
	lf->base = strdup(basename(bcopy));
	if (!lf->path || !lf->base) {
		rc = -ENOMEM;
		goto out;
	}
	c->logf = lf;
	lf->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (lf->ino_fd >= 0 &&
	    inotify_add_watch(lf->ino_fd, dirname(dcopy),
	                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
	                          IN_CLOSE_WRITE | IN_ATTRIB) >= 0 &&
	    (lf->w = h->watch_fd(c->ctl->self, lf->ino_fd, VIGIL_FD_IN, inotify_cb, c))) {
		goto out;
	}
	/* no inotify (limits, odd filesystems): look every POLL_MS instead */
	if (lf->ino_fd >= 0)
		close(lf->ino_fd);
	lf->ino_fd = -1;
	lf->poll = h->timer_add(c->ctl->self, POLL_MS, POLL_MS, logs_poll_cb, c);
	if (!lf->poll)
		rc = -ENOMEM;
out:
	if (rc && lf) {
		if (c->logf) {
			lf->fd = -1; /* the caller closes it */
			ctl_logf_free(c);
		} else {
			free(lf->path);
			free(lf->base);
			free(lf);
		}
	}
	free(dcopy);
	free(bcopy);
	return rc;
}

void ctl_logs_resume(struct ctl_conn *c)
{
	if (c->logf && c->logf->paused)
		pump(c);
}

void ctl_cmd_logs(struct ctl_conn *c, const json_t *req)
{
	const json_t *args = ctl_req_args(c, req, 1);
	struct find f = {.count = 0};
	int64_t lines = 10;
	int use_err, follow, fd = -1, rc;
	const char *path, *stream;
	struct stat st;
	json_t *arr;
	size_t i;

	if (!args || ctl_opt_int(c, req, "lines", 0, 100000, &lines) != 0 ||
	    ctl_opt_bool(c, req, "stderr", &use_err) != 0 ||
	    ctl_opt_bool(c, req, "follow", &follow) != 0)
		return;
	if (json_array_size(args) != 1) {
		ctl_send_error(c, PROTO_USAGE, "bad request: logs takes exactly one name");
		return;
	}
	if (c->ctl->host->proc_foreach(json_string_value(json_array_get(args, 0)), find_cb, &f) ==
	    -ENOENT) {
		ctl_send_error(c, PROTO_NOENT, "no such program or instance: %s",
		               json_string_value(json_array_get(args, 0)));
		goto out;
	}
	if (f.count != 1) {
		ctl_send_error(c, PROTO_USAGE, "%s has %d instances: name one (%s, ...)",
		               json_string_value(json_array_get(args, 0)), f.count, f.name);
		goto out;
	}
	stream = use_err ? "stderr" : "stdout";
	path = use_err ? f.err : f.out;
	if (!path) {
		ctl_send_error(c, PROTO_FAILED,
		               use_err ? "%s: stderr is not captured in a file of its own "
		                         "(stderr = stdout, null or inherit)"
		                       : "%s: stdout is not captured (stdout = null or inherit)",
		               f.name);
		goto out;
	}
	fd = open_log(path, &st);
	if (fd < 0 && fd != -ENOENT) {
		ctl_send_error(c, PROTO_FAILED, "%s: cannot read %s: %s", f.name, path,
		               fd == -EINVAL ? "not a regular file" : strerror(-fd));
		goto out;
	}
	arr = json_array();
	rc = fd >= 0 ? read_tail(fd, st.st_size, lines, arr) : 0;
	if (rc < 0) {
		json_decref(arr);
		ctl_send_error(c, PROTO_FAILED, "%s: cannot read %s: %s", f.name, path,
		               strerror(-rc));
		goto out;
	}
	if (!follow) {
		ctl_send(c, json_pack("{s:b,s:s,s:s,s:o,s:o}", "ok", 1, "name", f.name, "output",
		                      stream, "file", vjson_string(path), "lines", arr));
		goto out;
	}
	for (i = 0; i < json_array_size(arr) && !c->dead; i++)
		ctl_send(c, json_pack("{s:{s:O}}", "stream", "line", json_array_get(arr, i)));
	json_decref(arr);
	rc = logf_start(c, path, fd, &st);
	if (rc < 0) {
		ctl_send_error(c, PROTO_FAILED, "%s: cannot follow %s: %s", f.name, path,
		               strerror(-rc));
		goto out;
	}
	fd = -1; /* the follower owns it */
	c->busy = CTL_STREAM_LOGS;
	pump(c);
out:
	if (fd >= 0)
		close(fd);
	free(f.out);
	free(f.err);
}
