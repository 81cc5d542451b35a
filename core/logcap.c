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
	/* The file is created by the first output, not at spawn: creating files is slow on a
	 * journalled file system, and a program that never writes gets none. */
	if (lc->filefd < 0 && open_file(lc) < 0) {
		if (!lc->warned)
			log_error("cannot open %s: %s (output is lost until it can be)", lc->path,
			          strerror(errno));
		lc->warned = 1;
		return;
	}
	lc->warned = 0;
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

/* The capture channel is a FIFO in fifo_dir, not an anonymous pipe: the child's end is opened
 * read-write, so a write never raises SIGPIPE even while no vigild is reading (after a crash, the
 * program blocks once 64 KiB are buffered instead of dying), and a restarted vigild opens the
 * same FIFO by name and drains what was written meanwhile. fifo_dir is best on a tmpfs:
 * creating a FIFO on a journalled disk costs a journal write per program start. */
int logcap_open(struct logcap *lc, const char *path, const char *fifo_dir, int64_t max_size,
                int backups)
{
	memset(lc, 0, sizeof *lc);
	lc->rfd = lc->wfd = lc->filefd = -1;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t n = strlen(fifo_dir) + strlen(base) + 8;
	lc->path = strdup(path);
	char *fifo = malloc(n);
	int r = 0;
	if (!lc->path || !fifo) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(fifo, n, "%s/%.*s.pipe", fifo_dir, (int)(strlen(base) - 4), base);
	lc->max_size = max_size;
	lc->backups = backups;
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

/* A private directory for the FIFOs on a tmpfs (/run, else /dev/shm), named after the state
 * dir so a restarted vigild finds them again; else the logs directory itself. */
void logcap_fifo_dir(const char *state_dir, char *out, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	for (const char *c = state_dir; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 1099511628211ULL;
	}
	static const char *const bases[] = {"/run/vigil", "/dev/shm", NULL};
	for (const char *const *b = bases; *b; b++) {
		if (strcmp(*b, "/run/vigil") == 0 && mkdir(*b, 0755) < 0 && errno != EEXIST)
			continue;
		snprintf(out, len, "%s/vigil-%u-%016llx", *b, (unsigned)geteuid(),
		         (unsigned long long)h);
		if (mkdir(out, 0700) < 0 && errno != EEXIST)
			continue;
		/* Someone else's directory (or a link to one) must not receive our FIFOs. */
		struct stat st;
		if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
		    (st.st_mode & 077) == 0)
			return;
	}
	snprintf(out, len, "%s/logs", state_dir);
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
