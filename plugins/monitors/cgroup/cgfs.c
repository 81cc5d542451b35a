/* cgfs.c — the few file operations monitor_cgroup performs on cgroupfs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

int cg_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* cgroupfs takes one value per write(2) and reports a refused value as the write's error. */
int cg_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int cg_writef(const char *path, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return -EINVAL;
	return cg_write(path, buf);
}

ssize_t cg_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

int cg_read_key(const char *path, const char *key, int64_t *out)
{
	char buf[4096];
	size_t klen = strlen(key);
	ssize_t n = cg_read(path, buf, sizeof buf);

	if (n < 0)
		return (int)n;
	for (char *line = buf; line && *line;) {
		char *next = strchr(line, '\n');

		if (next)
			*next++ = '\0';
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
			char *end;
			long long v;

			errno = 0;
			v = strtoll(line + klen + 1, &end, 10);
			if (errno || end == line + klen + 1)
				return -EINVAL;
			*out = v;
			return 0;
		}
		line = next;
	}
	return -ENOENT;
}

int cg_read_pids(const char *path, pid_t **pids, size_t *n)
{
	FILE *f = fopen(path, "re");
	pid_t *v = NULL, *grown;
	size_t cap = 0, count = 0;
	long long p;

	*pids = NULL;
	*n = 0;
	if (!f)
		return -errno;
	while (fscanf(f, "%lld", &p) == 1) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(v, cap * sizeof *v);
			if (!grown) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = grown;
		}
		if (p > 0)
			v[count++] = (pid_t)p;
	}
	fclose(f);
	*pids = v;
	*n = count;
	return 0;
}

int cg_mkdir(const char *path)
{
	if (mkdir(path, 0755) == 0)
		return 0;
	return errno == EEXIST ? 1 : -errno;
}

int cg_exists(const char *path)
{
	return access(path, F_OK) == 0;
}
