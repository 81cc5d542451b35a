/* xr_write.c — frontend_xmlreport's writer thread and the atomic replace of the report file. */
#include "xr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary files are ".NAME.tmp.XXXXXX" next to NAME: hidden from globs, and found
 * again (and removed) after a crash in the middle of a write. */
#define XR_TMP_INFIX ".tmp."

/* "STEP NAME: reason" into err; returns -e. */
static int xr_fail(char *err, size_t errlen, int e, const char *step, const char *name)
{
	snprintf(err, errlen, "%s %s: %s", step, name, strerror(e));
	return -e;
}

static int xr_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int xr_write_atomic(const char *path, mode_t mode, const char *buf, size_t len, char *err,
                    size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[4096], tmp[4096 + 64];
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	const char *base = slash ? slash + 1 : path;
	int fd, dfd, rc;

	if (!*base || dlen >= sizeof dir || strlen(path) + 32 >= sizeof dir)
		return xr_fail(err, errlen, EINVAL, "not a file path:", path);
	if (slash) {
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		if (!dlen)
			snprintf(dir, sizeof dir, "/");
	} else {
		snprintf(dir, sizeof dir, ".");
	}
	snprintf(tmp, sizeof tmp, "%s/.%s" XR_TMP_INFIX "XXXXXX", strcmp(dir, "/") ? dir : "",
	         base);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return xr_fail(err, errlen, errno, "cannot create a temporary file in", dir);
	if (fchmod(fd, mode) < 0) {
		rc = xr_fail(err, errlen, errno, "chmod", tmp);
		goto fail;
	}
	rc = xr_write_all(fd, buf, len);
	if (rc < 0) {
		rc = xr_fail(err, errlen, -rc, "write", tmp);
		goto fail;
	}
	/* the data must be on disk before the name points at it, or a crash leaves an empty
	 * file under the old name */
	if (fsync(fd) < 0) {
		rc = xr_fail(err, errlen, errno, "fsync", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = xr_fail(err, errlen, errno, "close", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = xr_fail(err, errlen, errno, "rename to", path);
		goto fail;
	}
	/* the rename itself is durable once the directory is */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return xr_fail(err, errlen, errno, "open directory", dir);
	rc = fsync(dfd) < 0 && errno != EINVAL ? -errno : 0;
	close(dfd);
	if (rc < 0)
		return xr_fail(err, errlen, -rc, "fsync directory", dir);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* Removes temporary files a crash left behind: ".NAME.tmp.XXXXXX" next to path. */
static void xr_sweep(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096], prefix[512], victim[4096 + 512];
	size_t dlen = slash ? (size_t)(slash - path) : 0, plen;
	struct dirent *de;
	DIR *d;

	if (dlen >= sizeof dir)
		return;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (!dlen)
		snprintf(dir, sizeof dir, "/");
	snprintf(prefix, sizeof prefix, ".%s" XR_TMP_INFIX, slash ? slash + 1 : path);
	plen = strlen(prefix);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, plen) == 0 && strlen(de->d_name) == plen + 6) {
			snprintf(victim, sizeof victim, "%s/%s", dir, de->d_name);
			unlink(victim);
		}
	closedir(d);
}

static void xr_poke(struct xr *xr)
{
	uint64_t one = 1;

	if (write(xr->efd, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is already non-zero, the loop will look anyway */
	}
}

static void *xr_writer_main(void *arg)
{
	struct xr *xr = arg;
	char err[sizeof xr->error];

	xr_sweep(xr->path);
	pthread_mutex_lock(&xr->mu);
	for (;;) {
		char *doc;
		size_t len;
		int rc;

		while (!xr->pending && !xr->quit)
			pthread_cond_wait(&xr->cv, &xr->mu);
		if (!xr->pending)
			break;
		doc = xr->pending;
		len = xr->pending_len;
		xr->pending = NULL;
		pthread_mutex_unlock(&xr->mu);

		rc = xr_write_atomic(xr->path, xr->mode, doc, len, err, sizeof err);
		free(doc);

		pthread_mutex_lock(&xr->mu);
		if (rc < 0) {
			xr->failures++;
			snprintf(xr->error, sizeof xr->error, "%s", err);
		} else {
			xr->written++;
			xr->error[0] = '\0';
		}
		xr_poke(xr);
	}
	pthread_mutex_unlock(&xr->mu);
	return NULL;
}

int xr_writer_start(struct xr *xr)
{
	sigset_t all, old;
	int rc;

	/* the daemon takes its signals through a signalfd: none may land on this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&xr->thread, NULL, xr_writer_main, xr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	xr->thread_started = 1;
	return 0;
}

void xr_writer_submit(struct xr *xr, char *doc, size_t len)
{
	pthread_mutex_lock(&xr->mu);
	free(xr->pending);
	xr->pending = doc;
	xr->pending_len = len;
	pthread_cond_signal(&xr->cv);
	pthread_mutex_unlock(&xr->mu);
}

void xr_writer_stop(struct xr *xr)
{
	if (!xr->thread_started)
		return;
	pthread_mutex_lock(&xr->mu);
	xr->quit = 1;
	pthread_cond_signal(&xr->cv);
	pthread_mutex_unlock(&xr->mu);
	pthread_join(xr->thread, NULL);
	xr->thread_started = 0;
}
