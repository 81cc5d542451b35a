/* inst.c — the runtime record of an instance: creation, info snapshots, child environment. */
#include "inst.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch.h"
#include "loader.h"
#include "probe.h"
#include "util.h"

struct proc *proc_new(const struct conf_program *prog, int instance)
{
	struct proc *p = util_xcalloc(1, sizeof *p);
	char name[256];
	if (instance >= 0)
		snprintf(name, sizeof name, "%s.%d", prog->name, instance);
	else
		snprintf(name, sizeof name, "%s", prog->name);
	p->name = util_xstrdup(name);
	p->prog = prog;
	p->instance = instance;
	p->state = VIGIL_PROC_STOPPED;
	p->spawn_fd = -1;
	p->pidfd = -1;
	p->exit_code = -1;
	p->cpu_pct = -1;
	p->rss_bytes = -1;
	p->health = -1;
	p->check_latency_us = -1;
	p->out.rfd = p->out.wfd = p->out.filefd = -1;
	p->err.rfd = p->err.wfd = p->err.filefd = -1;
	return p;
}

void proc_free(struct proc *p)
{
	if (!p)
		return;
	probe_forget(p);
	if (p->policy) {
		const struct vigil_policy_ops *ops = p->policy->desc.ops;
		if (ops && ops->size >= offsetof(struct vigil_policy_ops, release) + sizeof ops->release &&
		    ops->release && p->policy_mem)
			ops->release(p->policy->state, p->policy_mem);
	}
	logcap_close(&p->out);
	logcap_close(&p->err);
	free(p->spawn_error);
	free(p->fatal_reason);
	free(p->name);
	free(p);
}

void proc_set_text(char **slot, const char *text)
{
	free(*slot);
	*slot = text && text[0] ? util_xstrdup(text) : NULL;
}

void proc_policy_reset(struct proc *p)
{
	if (!p->policy)
		return;
	const struct vigil_policy_ops *ops = p->policy->desc.ops;
	if (ops && ops->size >= offsetof(struct vigil_policy_ops, reset) + sizeof ops->reset &&
	    ops->reset)
		ops->reset(p->policy->state, &p->policy_mem);
}

void proc_fill_info(const struct proc *p, struct vigil_proc_info *info)
{
	const struct conf_program *g = p->prog;
	memset(info, 0, sizeof *info);
	info->size = sizeof *info;
	info->state = p->state;
	info->name = p->name;
	info->program = g->name;
	info->command = g->command;
	info->instance = p->instance;
	info->pid = p->pid;
	info->priority = (enum vigil_priority)g->priority;
	info->started_at_ms = p->started_at_ms;
	info->state_since_ms = p->state_since_ms;
	info->restarts = p->restarts;
	info->exit_code = p->exit_code;
	info->exit_signal = p->exit_signal;
	info->last_reason = p->last_reason;
	info->tags = (const char *const *)g->tags;
	info->stdout_log = g->stdout_mode == OUT_LOG ? p->out.path : NULL;
	info->stderr_log = g->stderr_mode == OUT_LOG ? p->err.path : NULL;
	if (g->stderr_mode == OUT_STDOUT)
		info->stderr_log = info->stdout_log;
	info->cpu_pct = p->cpu_pct;
	info->rss_bytes = p->rss_bytes;
	info->health = p->health;
	info->limit_memory = g->limit_memory;
	info->limit_cpu = g->limit_cpu;
	info->limit_runtime_ms = g->limit_runtime_ms;
	info->limit_nofile = g->limit_nofile;
	info->limit_nproc = g->limit_nproc;
	info->check_latency_us = p->check_latency_us;
	info->check_failures = p->check_failures;
	info->status = p->notify_status[0] ? p->notify_status : NULL;
	static const char *const on_limit[] = {"restart", "stop", "alert"};
	info->on_limit = on_limit[g->on_limit % 3];
}

char **proc_build_env(const struct proc *p, char *const *base)
{
	char name[300], program[300], instance[40];
	char *extra[] = {name, program, NULL, NULL};
	snprintf(name, sizeof name, "VIGIL_NAME=%s", p->name);
	snprintf(program, sizeof program, "VIGIL_PROGRAM=%s", p->prog->name);
	if (p->instance >= 0) {
		snprintf(instance, sizeof instance, "VIGIL_INSTANCE=%d", p->instance);
		extra[2] = instance;
	}
	return launch_env(base, p->prog->clear_env, p->prog->environment, extra);
}

uint64_t proc_start_ticks(pid_t pid)
{
	char state;
	return proc_stat_start(pid, &state);
}

uint64_t proc_stat_start(pid_t pid, char *state)
{
	char path[64], buf[1024];
	*state = '?';
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: count fields after the last ')'. */
	char *s = strrchr(buf, ')');
	if (!s || !s[1] || !s[2])
		return 0;
	*state = s[2];
	int field = 2;
	for (s++; *s && field < 22; s++)
		if (*s == ' ')
			field++;
	return strtoull(s, NULL, 10);
}

/* pidfs (Linux 6.9+) gives every process its own pidfd inode; older kernels share one. */
#define PIDFS_MAGIC_ 0x50494446

uint64_t proc_pidfd_ino(int pidfd)
{
	static int pidfs = -1; /* the kernel does not change under us: ask once */
	struct stat st;
	if (pidfd < 0)
		return 0;
	if (pidfs < 0) {
		struct statfs sf;
		if (fstatfs(pidfd, &sf) < 0)
			return 0;
		pidfs = sf.f_type == PIDFS_MAGIC_;
	}
	return pidfs && fstat(pidfd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

uint64_t proc_pid_ino(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return 0;
	uint64_t ino = proc_pidfd_ino(fd);
	close(fd);
	return ino;
}

void proc_read_boot_id(char *buf, size_t len)
{
	buf[0] = '\0';
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}
