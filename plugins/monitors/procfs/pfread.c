/* pfread.c — monitor_procfs: reading and parsing /proc files without allocating. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pf.h"

/* An unsigned decimal at *p; advances *p past it. -1 when there is no digit. */
static int64_t pf_number(const char **p)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	*p = s;
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

int pf_parse_stat(const char *text, struct pf_stat *st)
{
	const char *p = strrchr(text, ')');
	int64_t v;

	/* After the command: " S ppid pgrp session ..." — field 3 is the state letter. */
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -EINVAL;
	st->state = p[2];
	p += 4;
	for (int field = 4; field <= 24; field++) {
		int negative = *p == '-'; /* tty_nr, priority, nice... may be negative */

		p += negative;
		v = pf_number(&p);
		if (v < 0 || (*p != ' ' && *p != '\n' && *p != '\0'))
			return -EINVAL;
		switch (field) {
		case 6:
			st->session = negative ? -1 : (int32_t)v;
			break;
		case 14:
			st->cpu_ticks = (uint64_t)v;
			break;
		case 15:
			st->cpu_ticks += (uint64_t)v;
			break;
		case 20:
			st->threads = (int32_t)v;
			break;
		case 22:
			st->start_ticks = (uint64_t)v;
			break;
		case 23:
			st->vms_bytes = v;
			break;
		case 24:
			st->rss_pages = negative ? 0 : v;
			break;
		default:
			break;
		}
		if (field < 24) {
			if (*p != ' ')
				return -EINVAL;
			p++;
		}
	}
	return 0;
}

/* The number after "key:" at the start of a line of text, or -1. */
static int64_t pf_keyed(const char *text, const char *key, size_t keylen)
{
	const char *p = text;

	while ((p = strstr(p, key))) {
		if (p == text || p[-1] == '\n') {
			p += keylen;
			while (*p == ' ' || *p == '\t')
				p++;
			return pf_number(&p);
		}
		p += keylen;
	}
	return -1;
}

int pf_parse_status(const char *text, int64_t *ctx_switches)
{
	static const char vol[] = "voluntary_ctxt_switches:";
	static const char invol[] = "nonvoluntary_ctxt_switches:";
	int64_t a = pf_keyed(text, vol, sizeof vol - 1);
	int64_t b = pf_keyed(text, invol, sizeof invol - 1);

	if (a < 0 || b < 0)
		return -ENOENT;
	*ctx_switches = a + b;
	return 0;
}

int pf_parse_io(const char *text, int64_t *read_bytes, int64_t *write_bytes)
{
	static const char rd[] = "read_bytes:";
	static const char wr[] = "write_bytes:";
	int64_t r = pf_keyed(text, rd, sizeof rd - 1);
	int64_t w = pf_keyed(text, wr, sizeof wr - 1);

	if (r < 0 || w < 0)
		return -ENOENT;
	*read_bytes = r;
	*write_bytes = w;
	return 0;
}

void pf_close(struct pf_files *files, int *fd, int spare)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
		files->open--;
		files->spare_open -= spare != 0;
	}
}

ssize_t pf_read(struct pf_files *files, int *fd, int spare, int32_t pid, const char *name,
                char *buf, size_t len)
{
	int kept = fd && *fd >= 0, f, err;
	char path[64];
	ssize_t n;

	if (kept) {
		f = *fd;
	} else {
		snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
		f = open(path, O_RDONLY | O_CLOEXEC);
		if (f < 0)
			return -errno;
	}
	n = pread(f, buf, len - 1, 0);
	err = errno;
	if (n >= 0)
		buf[n] = '\0';
	if (kept) {
		if (n < 0)
			pf_close(files, fd, spare);
	} else if (n >= 0 && fd && files->open < files->budget &&
	           (!spare || files->spare_open < files->spare_max)) {
		*fd = f;
		files->open++;
		files->spare_open += spare != 0;
	} else {
		close(f);
	}
	return n < 0 ? -err : n;
}

/* getdents64 records, read without assuming the caller's buffer is aligned for them. */
static unsigned short pf_reclen(const char *rec)
{
	unsigned short len;

	memcpy(&len, rec + offsetof(struct dirent64, d_reclen), sizeof len);
	return len;
}

static const char *pf_dname(const char *rec)
{
	return rec + offsetof(struct dirent64, d_name);
}

int pf_count_fds(int32_t pid, char *buf, size_t len)
{
	char path[64];
	int dir, count = 0, err = 0;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	while ((n = getdents64(dir, buf, len)) > 0) {
		for (ssize_t off = 0; off < n; off += pf_reclen(buf + off))
			count += pf_dname(buf + off)[0] != '.';
	}
	if (n < 0)
		err = -errno;
	close(dir);
	return err ? err : count;
}

int pf_list_pids(int dirfd, char *buf, size_t len, void (*fn)(int32_t pid, void *arg), void *arg)
{
	ssize_t n;

	if (lseek(dirfd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = getdents64(dirfd, buf, len)) > 0) {
		for (ssize_t off = 0; off < n; off += pf_reclen(buf + off)) {
			const char *p = pf_dname(buf + off);
			int64_t pid = pf_number(&p);

			if (pid > 0 && pid <= INT32_MAX && *p == '\0')
				fn((int32_t)pid, arg);
		}
	}
	return n < 0 ? -errno : 0;
}
