/* xr.h — frontend_xmlreport's shared state: the plugin (loop thread) and its file writer thread. */
#ifndef VIGIL_XMLREPORT_XR_H
#define VIGIL_XMLREPORT_XR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report.h"

struct xr {
	const struct vigil_host *host;
	struct vigil_instance *self;

	/* configuration */
	char *path;
	mode_t mode;
	int64_t interval_ms;
	int64_t window_ms; /* `since`: tasks and statistics of this long ago; 0 = all */
	uint32_t max_tasks;
	enum report_format format;

	/* loop thread */
	struct vigil_timer *timer;
	struct vigil_watch *watch;
	int failing;     /* the last write failed: logged once until one succeeds */
	uint64_t seen;   /* results already looked at (writes + failures) */
	size_t programs; /* programs in the last report generated */

	/* the writer: the loop hands it the newest document, it writes the file */
	int efd; /* eventfd: the writer tells the loop a result is in */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *pending; /* under mu: a newer document replaces one not yet written */
	size_t pending_len;
	int quit;          /* under mu: write what is pending, then exit */
	uint64_t written;  /* under mu: documents written */
	uint64_t failures; /* under mu: attempts that failed */
	char error[512];   /* under mu: the last outcome: a failure, or "" after a success */
};

/* Writes buf to path atomically: a temporary file in the same directory, fsync, rename over
 * path, fsync of the directory. A reader sees the old file or the new one, never a part.
 * 0, or -errno with a message naming the file and the step in err. Any thread. */
int xr_write_atomic(const char *path, mode_t mode, const char *buf, size_t len, char *err,
                    size_t errlen);

/* Starts the writer thread (signals blocked in it). 0 or -errno. */
int xr_writer_start(struct xr *xr);
/* Hands doc (malloc'd, taken) to the writer; a document still waiting is dropped for it. */
void xr_writer_submit(struct xr *xr, char *doc, size_t len);
/* Lets the writer finish what is pending and joins it. Safe when it never started. */
void xr_writer_stop(struct xr *xr);

#endif
