/* logcap.c — reads captured output from pipes on the loop and appends it to rotated files. */
#include "logcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

static int open_file(struct logcap *lc)
{
	lc->filefd = open(lc->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
	                  0640);
	if (lc->filefd < 0)
		return -errno;
	struct stat st;
	lc->size = fstat(lc->filefd, &st) == 0 ? st.st_size : 0;
	return 0;
}

/* NAME.log.(N-1) -> NAME.log.N ... NAME.log -> NAME.log.1, then a fresh NAME.log. */
static void rotate(struct logcap *lc)
{
	size_t n = strlen(lc->path) + 16;
	char *from = malloc(n), *to = malloc(n);
	if (!from || !to)
		goto out;
	if (lc->backups <= 0) {
		if (ftruncate(lc->filefd, 0) == 0)
			lc->size = 0;
		goto out;
	}
	for (int i = lc->backups - 1; i >= 1; i--) {
		snprintf(from, n, "%s.%d", lc->path, i);
		snprintf(to, n, "%s.%d", lc->path, i + 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			log_warn("rotating %s: %s", from, strerror(errno));
	}
	snprintf(to, n, "%s.1", lc->path);
	if (rename(lc->path, to) < 0)
		log_warn("rotating %s: %s", lc->path, strerror(errno));
	close(lc->filefd);
	if (open_file(lc) < 0)
		log_error("reopening %s after rotation: %s", lc->path, strerror(errno));
out:
	free(from);
	free(to);
}

static void on_readable(int fd, uint32_t events, void *arg)
{
	struct logcap *lc = arg;
	static char buf[65536];
	(void)events;
	/* One read per wakeup: level-triggered epoll brings us back, and a chatty program cannot
	 * starve the rest of the loop. */
	ssize_t n = read(fd, buf, sizeof buf);
	if (n <= 0)
		return;
	if (lc->filefd < 0)
		return;
	ssize_t off = 0;
	while (off < n) {
		ssize_t w = write(lc->filefd, buf + off, (size_t)(n - off));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break; /* disk full: the output is lost, the program is not blocked */
		}
		off += w;
	}
	lc->size += off;
	if (lc->max_size > 0 && lc->size >= lc->max_size)
		rotate(lc);
}

/* The capture channel is a FIFO next to the log file, not an anonymous pipe: the child's end
 * is opened read-write, so a write never raises SIGPIPE even while no vigild is reading (after
 * a crash, the program blocks once 64 KiB are buffered instead of dying), and a restarted
 * vigild opens the same FIFO by name and drains what was written meanwhile. */
int logcap_open(struct logcap *lc, const char *path, int64_t max_size, int backups)
{
	memset(lc, 0, sizeof *lc);
	lc->rfd = lc->wfd = lc->filefd = -1;
	size_t n = strlen(path) + 8;
	lc->path = malloc(n);
	char *fifo = malloc(n);
	int r = 0;
	if (!lc->path || !fifo) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(lc->path, n, "%s", path);
	snprintf(fifo, n, "%.*s.pipe", (int)(strlen(path) - 4), path); /* NAME.out.log -> NAME.out.pipe */
	lc->max_size = max_size;
	lc->backups = backups;
	r = open_file(lc);
	if (r < 0)
		goto fail;
	struct stat st;
	if (lstat(fifo, &st) == 0 && !S_ISFIFO(st.st_mode)) {
		r = -EEXIST;
		goto fail;
	}
	if (mkfifo(fifo, 0600) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	lc->rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (lc->rfd >= 0)
		lc->wfd = open(fifo, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (lc->rfd < 0 || lc->wfd < 0) {
		r = -errno;
		goto fail;
	}
	lc->watch = loop_watch(lc->rfd, EPOLLIN, on_readable, lc);
	if (!lc->watch) {
		r = -errno;
		goto fail;
	}
	free(fifo);
	return 0;
fail:
	free(fifo);
	logcap_close(lc);
	return r;
}

void logcap_configure(struct logcap *lc, int64_t max_size, int backups)
{
	lc->max_size = max_size;
	lc->backups = backups;
}

void logcap_close(struct logcap *lc)
{
	if (lc->watch) {
		/* Whatever is still in the pipe belongs in the file. */
		for (int i = 0; i < 64; i++) {
			off_t before = lc->size;
			on_readable(lc->rfd, EPOLLIN, lc);
			if (lc->size == before)
				break;
		}
		loop_unwatch(lc->watch);
	}
	if (lc->rfd >= 0)
		close(lc->rfd);
	if (lc->wfd >= 0)
		close(lc->wfd);
	if (lc->filefd >= 0)
		close(lc->filefd);
	free(lc->path);
	memset(lc, 0, sizeof *lc);
	lc->rfd = lc->wfd = lc->filefd = -1;
}
