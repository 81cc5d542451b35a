/* procfs.c — monitor_procfs: samples every supervised process (and its session) from /proc. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <vigil/sdk.h>

#include "pf.h"

static const struct vigil_config_key procfs_keys[] = {
    {"interval", VIGIL_KEY_DURATION, "1s", 0,
     "how often every supervised process is sampled (at least 10ms)", NULL},
    {"tree", VIGIL_KEY_BOOL, "true", 0,
     "also sum the whole session of each instance (tree_procs, tree_cpu_pct, tree_rss_bytes)",
     NULL},
    {"fd_interval", VIGIL_KEY_INT, "5", 0,
     "count open fds (and re-read io and context switches of an idle process) every N "
     "samples of an instance",
     NULL},
    VIGIL_KEYS_END,
};

static int64_t pf_now_ns(void)
{
	struct timespec ts;

	/* CPU ticks are real time and starttime counts from boot: BOOTTIME serves both, and
	 * unlike the loop's clock it is read at the moment of the sample. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int pf_gone(ssize_t err)
{
	return err == -ENOENT || err == -ESRCH;
}

/* A read failed for a reason other than the process going away: say so once. */
static void pf_read_failed(struct procfs *pf, int32_t pid, const char *file, ssize_t err)
{
	if (err == -EMFILE || err == -ENFILE) {
		if (!pf->said_emfile++)
			pf->host->log(
			    pf->self, VIGIL_LOG_WARN,
			    "cannot open /proc/%d/%s: %s (samples skip it until descriptors "
			    "are free)",
			    (int)pid, file, strerror((int)-err));
	} else if (!pf->said_read++) {
		pf->host->log(pf->self, VIGIL_LOG_WARN, "cannot read /proc/%d/%s: %s", (int)pid,
		              file, strerror((int)-err));
	}
}

/* ---- the instance table ------------------------------------------------------------------ */

static size_t pf_hash(int32_t pid, size_t nslots)
{
	return ((uint32_t)pid * UINT32_C(2654435761)) & (nslots - 1);
}

long pf_lookup(const struct procfs *pf, int32_t pid)
{
	if (!pf->nslots)
		return -1;
	for (size_t h = pf_hash(pid, pf->nslots); pf->slots[h]; h = (h + 1) & (pf->nslots - 1))
		if (pf->entries[pf->slots[h] - 1].pid == pid)
			return pf->slots[h] - 1;
	return -1;
}

static int pf_rehash(struct procfs *pf)
{
	size_t want = 16;

	while (want < pf->nentries * 2)
		want *= 2;
	if (want != pf->nslots) {
		int32_t *s = realloc(pf->slots, want * sizeof *s);

		if (s) {
			pf->slots = s;
			pf->nslots = want;
		} else if (pf->nslots <= pf->nentries) {
			return -ENOMEM; /* the old table cannot hold them all and stays as it was */
		}
	}
	memset(pf->slots, 0, pf->nslots * sizeof *pf->slots);
	for (size_t i = 0; i < pf->nentries; i++) {
		size_t h = pf_hash(pf->entries[i].pid, pf->nslots);

		while (pf->slots[h])
			h = (h + 1) & (pf->nslots - 1);
		pf->slots[h] = (int32_t)i + 1;
	}
	return 0;
}

static void pf_entry_close(struct procfs *pf, struct pf_entry *e)
{
	pf_close(&pf->files, &e->fd_stat, 0);
	pf_close(&pf->files, &e->fd_io, 1);
	pf_close(&pf->files, &e->fd_status, 1);
}

/* Stat files first: io and status files may keep only what the stat files of every instance
 * and session member leave of the budget; spare files past that are closed. */
void pf_balance(struct procfs *pf)
{
	size_t want = pf->nentries + pf->nmembers;

	pf->files.spare_max = (size_t)pf->files.budget > want ? pf->files.budget - (int)want : 0;
	for (size_t i = pf->nentries; i-- > 0 && pf->files.spare_open > pf->files.spare_max;) {
		pf_close(&pf->files, &pf->entries[i].fd_io, 1);
		pf_close(&pf->files, &pf->entries[i].fd_status, 1);
	}
}

static int pf_refresh_one(const struct vigil_proc_info *info, void *arg)
{
	struct procfs *pf = arg;
	long at = info->pid > 0 ? pf_lookup(pf, info->pid) : -1;
	struct pf_entry *e;

	if (info->pid <= 0 || !info->name)
		return 0;
	if (at >= 0 && strcmp(pf->entries[at].name, info->name) == 0) {
		pf->entries[at].seen = pf->gen;
		return 0;
	}
	if (pf->nentries == pf->cap_entries) {
		size_t cap = pf->cap_entries ? pf->cap_entries * 2 : 64;

		e = realloc(pf->entries, cap * sizeof *e);
		if (!e)
			return -ENOMEM;
		pf->entries = e;
		pf->cap_entries = cap;
	}
	e = &pf->entries[pf->nentries];
	memset(e, 0, sizeof *e);
	e->name = strdup(info->name);
	if (!e->name)
		return -ENOMEM;
	pf->nentries++;
	pf->added++;
	e->pid = info->pid;
	e->seen = pf->gen;
	e->phase = pf->next_phase++;
	e->fd_stat = e->fd_io = e->fd_status = -1;
	e->fds = -1;
	e->read_bytes = e->write_bytes = e->ctx_switches = -1;
	e->members = -1;
	return 0;
}

/* Brings the table in line with the instances that have a main process now. */
static void pf_refresh(struct procfs *pf)
{
	size_t before, kept = 0;
	int rc;

	pf->gen++;
	pf->added = 0;
	rc = pf->host->proc_foreach(NULL, pf_refresh_one, pf);
	before = pf->nentries;
	if (rc == -ENOMEM && !pf->said_oom++)
		pf->host->log(pf->self, VIGIL_LOG_ERROR,
		              "out of memory: some instances not sampled");
	for (size_t i = 0; i < pf->nentries; i++) {
		struct pf_entry *e = &pf->entries[i];

		if (e->seen != pf->gen) {
			pf_entry_close(pf, e);
			free(e->name);
			continue;
		}
		if (kept != i)
			pf->entries[kept] = *e;
		kept++;
	}
	pf->nentries = kept;
	if ((kept != before || pf->added) && pf_rehash(pf) < 0 && !pf->said_oom++)
		pf->host->log(pf->self, VIGIL_LOG_ERROR,
		              "out of memory: some instances not sampled");
	pf_balance(pf);
}

/* ---- sampling ---------------------------------------------------------------------------- */

/* The slow counters: io and context switches (when the process ran, or every fd_interval
 * samples) and the fd count (every fd_interval samples). */
static void pf_sample_counters(struct procfs *pf, struct pf_entry *e, int ran, int every_nth)
{
	ssize_t n;

	if ((ran || every_nth) && !e->io_denied) {
		n = pf_read(&pf->files, &e->fd_io, 1, e->pid, "io", pf->buf, sizeof pf->buf);
		if (n == -EACCES || n == -EPERM) {
			e->io_denied = 1;
			if (!pf->said_io++)
				pf->host->log(
				    pf->self, VIGIL_LOG_DEBUG,
				    "cannot read /proc/%d/io: %s (read_bytes and write_bytes "
				    "stay -1 for such processes)",
				    (int)e->pid, strerror((int)-n));
		} else if (n >= 0) {
			pf_parse_io(pf->buf, &e->read_bytes, &e->write_bytes);
		} else if (!pf_gone(n)) {
			pf_read_failed(pf, e->pid, "io", n);
		}
	}
	if (ran || every_nth) {
		n = pf_read(&pf->files, &e->fd_status, 1, e->pid, "status", pf->buf,
		            sizeof pf->buf);
		if (n >= 0)
			pf_parse_status(pf->buf, &e->ctx_switches);
		else if (!pf_gone(n))
			pf_read_failed(pf, e->pid, "status", n);
	}
	if (every_nth && !e->fd_denied) {
		int fds = pf_count_fds(e->pid, pf->buf, sizeof pf->buf);

		if (fds == -EACCES || fds == -EPERM) {
			e->fd_denied = 1;
			if (!pf->said_fd++)
				pf->host->log(pf->self, VIGIL_LOG_DEBUG,
				              "cannot list /proc/%d/fd: %s (fds stays -1 for such "
				              "processes)",
				              (int)e->pid, strerror(-fds));
		} else if (fds >= 0) {
			e->fds = fds;
		} else if (!pf_gone(fds)) {
			pf_read_failed(pf, e->pid, "fd", fds);
		}
	}
}

static void pf_sample(struct procfs *pf, struct pf_entry *e)
{
	struct vigil_ev_metrics_sample ev;
	struct pf_stat st;
	int64_t now, prev_ns = e->prev_ns;
	ssize_t n;
	int ran;

	if (e->pid <= 0)
		return;
	n = pf_read(&pf->files, &e->fd_stat, 0, e->pid, "stat", pf->buf, sizeof pf->buf);
	now = pf_now_ns();
	if (n < 0) {
		if (!pf_gone(n))
			pf_read_failed(pf, e->pid, "stat", n);
		return;
	}
	if (pf_parse_stat(pf->buf, &st) < 0) {
		if (!pf->said_read++)
			pf->host->log(pf->self, VIGIL_LOG_WARN,
			              "cannot parse /proc/%d/stat: \"%.200s\"", (int)e->pid,
			              pf->buf);
		return;
	}
	if (st.state == 'Z' || st.state == 'X')
		return; /* exited: the core reaps it and we drop it at the next refresh */
	if (e->samples && st.start_ticks != e->start_ticks) {
		prev_ns = 0; /* another process under the same pid */
		e->samples = 0;
	}

	memset(&ev, 0, sizeof ev);
	ev.hdr.type = VIGIL_EV_METRICS_SAMPLE;
	ev.hdr.size = sizeof ev;
	ev.hdr.subject = e->name;
	ev.pid = e->pid;
	ev.cpu_pct = -1; /* first sample of a pid: no interval to measure over */
	if (prev_ns && now > prev_ns)
		ev.cpu_pct =
		    pf_pct(pf, st.cpu_ticks > e->prev_ticks ? st.cpu_ticks - e->prev_ticks : 0,
		           now - prev_ns);
	ev.rss_bytes = st.rss_pages * pf->page_size;
	ev.vms_bytes = st.vms_bytes;
	ev.threads = st.threads;
	ev.uptime_ms = (now - pf_ticks_ns(pf, st.start_ticks)) / 1000000;
	if (ev.uptime_ms < 0)
		ev.uptime_ms = 0;

	ran = !prev_ns || st.cpu_ticks != e->prev_ticks;
	pf_sample_counters(pf, e, ran, (e->samples + e->phase) % pf->fd_interval == 0 || !prev_ns);
	ev.fds = e->fds;
	ev.read_bytes = e->read_bytes;
	ev.write_bytes = e->write_bytes;
	ev.ctx_switches = e->ctx_switches;

	if (pf->tree) {
		pf_sample_tree(pf, e, now, prev_ns, &ev);
	} else {
		ev.tree_procs = -1;
		ev.tree_cpu_pct = -1;
		ev.tree_rss_bytes = -1;
	}

	e->start_ticks = st.start_ticks;
	e->prev_ticks = st.cpu_ticks;
	e->prev_ns = now;
	e->samples++;
	pf->host->publish(pf->self, &ev.hdr);
}

/* One slice: slice 0 also refreshes the instance table and rescans sessions. */
static void pf_tick(void *arg)
{
	struct procfs *pf = arg;
	unsigned k = pf->slice;
	size_t lo, hi;

	if (k == 0) {
		pf_refresh(pf);
		if (pf->tree && pf->nentries)
			pf_scan(pf);
	}
	lo = k * pf->nentries / pf->nslices;
	hi = (k + 1) * pf->nentries / pf->nslices;
	for (size_t i = lo; i < hi; i++)
		pf_sample(pf, &pf->entries[i]);
	pf->slice = (k + 1) % pf->nslices;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static int procfs_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct procfs *pf = calloc(1, sizeof *pf);

	if (!pf)
		return -ENOMEM;
	pf->host = host;
	pf->self = self;
	pf->proc_dir = -1;
	pf->hz = sysconf(_SC_CLK_TCK);
	if (pf->hz <= 0)
		pf->hz = 100;
	pf->page_size = sysconf(_SC_PAGESIZE);
	if (pf->page_size <= 0)
		pf->page_size = 4096;
	*state = pf;
	return 0;
}

static int procfs_configure(void *state, const struct vigil_config *cfg)
{
	struct procfs *pf = state;
	const struct vigil_host *h = pf->host;
	int64_t interval = h->cfg_duration_ms(cfg, "interval");
	int64_t fd_interval = h->cfg_int(cfg, "fd_interval");

	if (interval < PF_MIN_SLICE_MS) {
		h->log(pf->self, VIGIL_LOG_ERROR,
		       "interval = %" PRId64 "ms: expected at least %dms", interval,
		       PF_MIN_SLICE_MS);
		return -EINVAL;
	}
	if (fd_interval < 1 || fd_interval > 1000000) {
		h->log(pf->self, VIGIL_LOG_ERROR,
		       "fd_interval = %" PRId64 ": expected a number of samples from 1 to 1000000 "
		       "(1 = count fds on every sample)",
		       fd_interval);
		return -EINVAL;
	}
	pf->interval_ms = (uint64_t)interval;
	pf->fd_interval = (uint32_t)fd_interval;
	pf->tree = h->cfg_bool(cfg, "tree");
	/* The most slices (up to PF_SLICES) that divide the interval exactly, so a cycle is
	 * exactly one interval, each slice at least PF_MIN_SLICE_MS long. */
	pf->nslices = PF_SLICES;
	while (pf->nslices > 1 &&
	       (pf->interval_ms % pf->nslices || pf->interval_ms / pf->nslices < PF_MIN_SLICE_MS))
		pf->nslices--;
	pf->slice_ms = pf->interval_ms / pf->nslices;
	return 0;
}

static int procfs_start(void *state)
{
	struct procfs *pf = state;
	struct rlimit rl;

	pf->proc_dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pf->proc_dir < 0) {
		int err = errno;

		pf->host->log(
		    pf->self, VIGIL_LOG_ERROR,
		    "cannot open /proc: %s (monitor.procfs needs procfs mounted on /proc)",
		    strerror(err));
		return -err;
	}
	/* Keep at most a quarter of the descriptor limit open: the daemon needs the rest for
	 * children, pidfds, log pipes and clients. Past it, files are opened per read. */
	pf->files.budget = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		pf->files.budget = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 262144
		                       ? 65536
		                       : (int)(rl.rlim_cur / 4);
	pf->slice = 0;
	pf->timer = pf->host->timer_add(pf->self, pf->slice_ms, pf->slice_ms, pf_tick, pf);
	if (!pf->timer) {
		pf->host->log(pf->self, VIGIL_LOG_ERROR,
		              "cannot add the sampling timer: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void procfs_stop(void *state)
{
	struct procfs *pf = state;

	if (pf->timer)
		pf->host->timer_cancel(pf->timer);
	pf->timer = NULL;
}

static void procfs_fini(void *state)
{
	struct procfs *pf = state;

	for (size_t i = 0; i < pf->nentries; i++) {
		pf_entry_close(pf, &pf->entries[i]);
		free(pf->entries[i].name);
	}
	for (size_t i = 0; i < pf->ntasks; i++)
		pf_close(&pf->files, &pf->tasks[i].fd_stat, 0);
	if (pf->proc_dir >= 0)
		close(pf->proc_dir);
	free(pf->entries);
	free(pf->slots);
	free(pf->tasks);
	free(pf->tasks_next);
	free(pf->pids);
	free(pf);
}

/* The main process was reaped: let go of its files now rather than at the next refresh. */
static void procfs_detach(void *state, const struct vigil_proc_info *info)
{
	struct procfs *pf = state;

	for (size_t i = 0; i < pf->nentries; i++) {
		struct pf_entry *e = &pf->entries[i];

		if (e->pid > 0 && info->name && strcmp(e->name, info->name) == 0) {
			pf_entry_close(pf, e);
			e->pid = 0;
		}
	}
}

static const struct vigil_monitor_ops procfs_ops = {
    .size = sizeof(struct vigil_monitor_ops),
    .detach = procfs_detach,
};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_MONITOR, .name = "procfs", .version = VIGIL_VERSION_STRING,
                    .description = "samples CPU, memory, threads, fds, I/O and context switches "
                                   "of every supervised process and its session from /proc",
                    .keys = procfs_keys, .init = procfs_init, .configure = procfs_configure,
                    .start = procfs_start, .stop = procfs_stop, .fini = procfs_fini,
                    .ops = &procfs_ops);
