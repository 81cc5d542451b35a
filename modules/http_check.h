/* http_check.h — the table between vigild (core/attempt.c) and http_check.so (libcurl). */
#ifndef VIGIL_MODULES_HTTP_CHECK_H
#define VIGIL_MODULES_HTTP_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "modload.h"

#define HTTP_CHECK_MODULE "http_check"
#define HTTP_CHECK_IFACE 1

/* The core's loop (core/loop.h): the module's sockets and its timer run on it. Its functions
 * are lent as they are, so the types are the loop's own, opaque here. */
struct loop_watch;
struct loop_timer;

struct http_check_host {
	struct loop_watch *(*watch)(int fd, uint32_t events,
	                            void (*fn)(int fd, uint32_t events, void *arg), void *arg);
	int (*watch_modify)(struct loop_watch *w, uint32_t events);
	void (*unwatch)(struct loop_watch *w);
	struct loop_timer *(*timer_add)(uint64_t delay_ms, uint64_t period_ms,
	                                void (*fn)(void *arg), void *arg);
	void (*timer_cancel)(struct loop_timer *t);
	void (*warn)(const char *msg); /* the daemon's log, level warn */
};

struct http_check;

/* The outcome of one GET: ok = 1 for a 2xx or 3xx answer; otherwise why says what failed
 * ("Failed to connect to 127.0.0.1 port 8080: Connection refused", "HTTP 503"). The request
 * is already released when this runs. */
typedef void (*http_check_done_fn)(void *arg, int ok, const char *why);

/* Everything runs on the loop thread. */
struct http_check_module {
	struct vigil_module_head head;
	/* Lends the loop; called once after loading, before any start. Sets up nothing else:
	 * libcurl is initialised at the first start. */
	void (*init)(const struct http_check_host *host);
	/* GET url: no proxy, a fresh connection, no redirects followed. timeout_ms is the
	 * caller's own limit (libcurl gets a later one as a backstop). done is called once,
	 * from the loop, never from inside start; unless cancel comes first. NULL with err
	 * filled when libcurl cannot take the request. */
	struct http_check *(*start)(const char *url, int64_t timeout_ms, http_check_done_fn done,
	                            void *arg, char *err, size_t len);
	/* Drops a request whose outcome is no longer wanted (done is not called). */
	void (*cancel)(struct http_check *r);
	/* Releases libcurl (requests are all done or cancelled); a later start sets it up again. */
	void (*fini)(void);
};

#endif
