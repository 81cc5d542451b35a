/* monitor.h — monitors: samplers, health scoring and containment of what the core spawns. */
#ifndef VIGIL_MONITOR_H
#define VIGIL_MONITOR_H

#include <vigil/proc.h>

/* ops of a VIGIL_KIND_MONITOR plugin. Every callback is optional, all run on the loop thread.
 * A monitor that only samples needs none of them: it subscribes to process.* events and reads
 * what it needs on its own timers, publishing metrics.sample events. */
struct vigil_monitor_ops {
	uint32_t size;
	/* A child was forked and waits before exec: place it (e.g. move pid into a cgroup).
	 * A negative errno fails the start with that error. */
	int (*attach)(void *state, const struct vigil_proc_info *info, int32_t pid);
	/* The instance's main process was reaped. */
	void (*detach)(void *state, const struct vigil_proc_info *info);
	/* Send signo to every process of the instance's tree. Return 1 when done, 0 to let the
	 * core signal the process group instead, or a negative errno. */
	int (*kill_tree)(void *state, const struct vigil_proc_info *info, int signo);
};

#endif
