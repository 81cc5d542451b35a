/* logcap.h — capture of a program's stdout/stderr into a size-rotated file. */
#ifndef VIGIL_CORE_LOGCAP_H
#define VIGIL_CORE_LOGCAP_H

#include <stddef.h>
#include <stdint.h>

struct loop_watch;

/* One captured stream. The channel (a FIFO, NAME.out.pipe) lives as long
 * as the instance, across restarts and across a crash of vigild itself, so nothing a program
 * writes between two runs, or while no vigild runs, is lost. */
struct logcap {
	char *path;          /* ${state_dir}/logs/NAME.out.log */
	int rfd, wfd;        /* the FIFO: the daemon reads rfd; children get wfd (read-write) */
	int filefd;
	int64_t size;
	int64_t max_size;    /* 0 = never rotate */
	int warned;          /* the file could not be opened: said once */
	int backups;
	struct loop_watch *watch;
};

/* Creates (or reopens) the FIFO NAME.out.pipe in fifo_dir for the file path; the file itself
 * (O_APPEND|O_NOFOLLOW) is opened at the first output. 0 or -errno. */
int logcap_open(struct logcap *lc, const char *path, const char *fifo_dir, int64_t max_size,
                int backups);
/* Where the FIFOs of state_dir live: a private directory on a tmpfs when one is usable. */
void logcap_fifo_dir(const char *state_dir, char *out, size_t len);
/* Drains what is left in the pipe, then closes everything. */
void logcap_close(struct logcap *lc);
/* Changes the rotation settings (reload). */
void logcap_configure(struct logcap *lc, int64_t max_size, int backups);

#endif
