/* http_check.c — http_check.so: vigild's http:// checks, libcurl's multi interface on its loop. */
#include "http_check.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <vigil/vigil.h>

struct http_check {
	CURL *easy;
	http_check_done_fn done;
	void *arg;
	char err[CURL_ERROR_SIZE];
};

static struct {
	const struct http_check_host *host;
	CURLM *multi;
	int global; /* curl_global_init done */
	struct loop_timer *timer;
} H;

static void release(struct http_check *r)
{
	curl_multi_remove_handle(H.multi, r->easy);
	curl_easy_cleanup(r->easy);
	free(r);
}

static void drain(void)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(H.multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct http_check *r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (!r)
			continue;
		CURLcode rc = m->data.result;
		long code = 0;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		char why[CURL_ERROR_SIZE + 32] = "";
		int ok = 0;
		if (rc != CURLE_OK)
			snprintf(why, sizeof why, "%s",
			         r->err[0] ? r->err : curl_easy_strerror(rc));
		else if (code >= 200 && code < 400)
			ok = 1;
		else
			snprintf(why, sizeof why, "HTTP %ld", code);
		http_check_done_fn done = r->done;
		void *arg = r->arg;
		/* Released first: the callback may start or cancel other requests. */
		release(r);
		done(arg, ok, ok ? NULL : why);
	}
}

static void on_fd(int fd, uint32_t events, void *arg)
{
	(void)arg;
	int flags = 0, running;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(H.multi, fd, flags, &running);
	drain();
}

static void on_timer(void *arg)
{
	(void)arg;
	int running;
	H.timer = NULL;
	curl_multi_socket_action(H.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain();
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	(void)userp;
	struct loop_watch *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			H.host->unwatch(w);
			curl_multi_assign(H.multi, s, NULL);
		}
		return 0;
	}
	uint32_t ev =
	    ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (w) {
		H.host->watch_modify(w, ev);
		return 0;
	}
	w = H.host->watch(s, ev, on_fd, NULL);
	if (!w) {
		char msg[160];
		snprintf(msg, sizeof msg, "http check: cannot watch a libcurl socket: %s",
		         strerror(errno));
		H.host->warn(msg);
		return -1;
	}
	curl_multi_assign(H.multi, s, w);
	return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	(void)userp;
	if (H.timer) {
		H.host->timer_cancel(H.timer);
		H.timer = NULL;
	}
	if (timeout_ms >= 0)
		H.timer = H.host->timer_add((uint64_t)timeout_ms, 0, on_timer, NULL);
	return 0;
}

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * n;
}

static int setup(void)
{
	if (H.multi)
		return 0;
	if (!H.global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -1;
		H.global = 1;
	}
	H.multi = curl_multi_init();
	if (!H.multi)
		return -1;
	curl_multi_setopt(H.multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(H.multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	return 0;
}

static struct http_check *start(const char *url, int64_t timeout_ms, http_check_done_fn done,
                                void *arg, char *err, size_t len)
{
	if (!H.host || setup() < 0) {
		snprintf(err, len, "libcurl could not be set up");
		return NULL;
	}
	struct http_check *r = calloc(1, sizeof *r);
	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		snprintf(err, len, "libcurl could not be set up");
		return NULL;
	}
	r->done = done;
	r->arg = arg;
	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->err);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* The caller's timer decides; libcurl's own limit is only a backstop. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_ms + 1000));
	/* A check asks the program, not a proxy, and never a kept-alive connection that would
	 * succeed after the program stopped listening. */
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-check/" VIGIL_VERSION_STRING);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	if (curl_multi_add_handle(H.multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		free(r);
		snprintf(err, len, "libcurl refused the request");
		return NULL;
	}
	return r;
}

static void cancel(struct http_check *r)
{
	if (r)
		release(r);
}

static void init(const struct http_check_host *host)
{
	H.host = host;
}

static void fini(void)
{
	if (H.timer)
		H.host->timer_cancel(H.timer);
	H.timer = NULL;
	if (H.multi)
		curl_multi_cleanup(H.multi);
	H.multi = NULL;
	if (H.global)
		curl_global_cleanup();
	H.global = 0;
}

static const struct http_check_module table = {
    .head = {.name = HTTP_CHECK_MODULE,
             .version = VIGIL_VERSION_STRING,
             .iface = HTTP_CHECK_IFACE,
             .size = sizeof table},
    .init = init,
    .start = start,
    .cancel = cancel,
    .fini = fini,
};

VIGIL_MODULE_DEFINE(table)
