/* pftree.c — monitor_procfs: the processes of each supervised session, and their sums. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pf.h"

static void pf_collect_pid(int32_t pid, void *arg)
{
	struct procfs *pf = arg;

	if (pf->npids == pf->cap_pids) {
		size_t cap = pf->cap_pids ? pf->cap_pids * 2 : 1024;
		int32_t *p = realloc(pf->pids, cap * sizeof *p);

		if (!p)
			return; /* this scan misses a few pids; the next one retries */
		pf->pids = p;
		pf->cap_pids = cap;
	}
	pf->pids[pf->npids++] = pid;
}

static int pf_cmp_pid(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Reads the session of a process found by the scan into t. 0, or -1 when it is gone. */
static int pf_classify(struct procfs *pf, struct pf_task *t)
{
	struct pf_stat st;
	ssize_t n = pf_read(&pf->files, NULL, 0, t->pid, "stat", pf->buf, sizeof pf->buf);

	if (n < 0 || pf_parse_stat(pf->buf, &st) < 0 || st.state == 'Z' || st.state == 'X')
		return -1;
	if (t->start_ticks != st.start_ticks) {
		pf_close(&pf->files, &t->fd_stat, 0);
		t->prev_ns = 0;
	}
	t->sid = st.session;
	t->start_ticks = st.start_ticks;
	return 0;
}

/* Lists /proc once and files every process under the session it belongs to. Pids present in
 * the last scan are assumed unchanged (a pid is reused only after the whole pid space wraps),
 * so the steady cost is one directory listing plus a stat read per new process. */
void pf_scan(struct procfs *pf)
{
	int full = pf->scans++ % PF_RESCAN_EVERY == 0;
	size_t i = 0, n = 0;
	int rc, sorted = 1;

	pf->npids = 0;
	rc = pf_list_pids(pf->proc_dir, pf->buf, sizeof pf->buf, pf_collect_pid, pf);
	if (rc < 0) {
		if (!pf->said_scan++)
			pf->host->log(pf->self, VIGIL_LOG_WARN,
			              "cannot list /proc: %s (tree figures are stale)",
			              strerror(-rc));
		return;
	}
	for (size_t k = 1; k < pf->npids && sorted; k++)
		sorted = pf->pids[k - 1] < pf->pids[k];
	if (!sorted)
		qsort(pf->pids, pf->npids, sizeof *pf->pids, pf_cmp_pid);
	if (pf->npids > pf->cap_tasks) {
		size_t cap = pf->npids + pf->npids / 2;
		struct pf_task *a = realloc(pf->tasks, cap * sizeof *a);
		struct pf_task *b = a ? realloc(pf->tasks_next, cap * sizeof *b) : NULL;

		if (a)
			pf->tasks = a;
		if (!b)
			return;
		pf->tasks_next = b;
		pf->cap_tasks = cap;
	}

	/* Merge the sorted listing with the sorted table of the last scan. */
	for (size_t k = 0; k < pf->npids; k++) {
		int32_t pid = pf->pids[k];
		struct pf_task *t = &pf->tasks_next[n];

		while (i < pf->ntasks && pf->tasks[i].pid < pid)
			pf_close(&pf->files, &pf->tasks[i++].fd_stat, 0);
		if (i < pf->ntasks && pf->tasks[i].pid == pid) {
			*t = pf->tasks[i++];
			if (full && pf_classify(pf, t) < 0) {
				pf_close(&pf->files, &t->fd_stat, 0);
				continue;
			}
		} else {
			memset(t, 0, sizeof *t);
			t->pid = pid;
			t->fd_stat = -1;
			if (pf_classify(pf, t) < 0)
				continue;
		}
		n++;
	}
	while (i < pf->ntasks)
		pf_close(&pf->files, &pf->tasks[i++].fd_stat, 0);
	{
		struct pf_task *swap = pf->tasks;

		pf->tasks = pf->tasks_next;
		pf->tasks_next = swap;
		pf->ntasks = n;
	}

	for (size_t k = 0; k < pf->nentries; k++)
		pf->entries[k].members = -1;
	pf->nmembers = 0;
	for (size_t k = pf->ntasks; k-- > 0;) {
		struct pf_task *t = &pf->tasks[k];
		long owner = t->sid != t->pid ? pf_lookup(pf, t->sid) : -1;

		t->next = -1;
		if (owner >= 0) {
			t->next = pf->entries[owner].members;
			pf->entries[owner].members = (int32_t)k;
			pf->nmembers++;
		} else {
			pf_close(&pf->files, &t->fd_stat, 0); /* no longer read every sample */
		}
	}
	pf_balance(pf);
}

/* Adds the session members of e to the tree figures of ev. */
void pf_sample_tree(struct procfs *pf, struct pf_entry *e, int64_t now, int64_t prev_ns,
                    struct vigil_ev_metrics_sample *ev)
{
	double cpu = ev->cpu_pct;

	ev->tree_procs = 1;
	ev->tree_rss_bytes = ev->rss_bytes;
	for (int32_t k = e->members; k >= 0; k = pf->tasks[k].next) {
		struct pf_task *t = &pf->tasks[k];
		struct pf_stat st;
		ssize_t n =
		    pf_read(&pf->files, &t->fd_stat, 0, t->pid, "stat", pf->buf, sizeof pf->buf);

		if (n < 0 || pf_parse_stat(pf->buf, &st) < 0 || st.state == 'Z' || st.state == 'X')
			continue;
		if (st.session != e->pid) { /* it left with setsid(): not ours any more */
			t->sid = st.session;
			continue;
		}
		if (st.start_ticks != t->start_ticks) { /* a new process under a reused pid */
			t->start_ticks = st.start_ticks;
			t->prev_ns = 0;
		}
		ev->tree_procs++;
		ev->tree_rss_bytes += st.rss_pages * pf->page_size;
		if (t->prev_ns)
			cpu += pf_pct(
			    pf, st.cpu_ticks > t->prev_ticks ? st.cpu_ticks - t->prev_ticks : 0,
			    now - t->prev_ns);
		else if (prev_ns && pf_ticks_ns(pf, st.start_ticks) >= prev_ns)
			cpu += pf_pct(pf, st.cpu_ticks, now - prev_ns); /* born within the window */
		t->prev_ticks = st.cpu_ticks;
		t->prev_ns = now;
	}
	ev->tree_cpu_pct = ev->cpu_pct < 0 ? -1 : cpu;
}
