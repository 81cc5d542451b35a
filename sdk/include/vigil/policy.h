/* policy.h — restart policies: a call, not an event, that decides what happens after an exit. */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <vigil/vigil.h>

/* What the core knows about an exit that needs a decision. Borrowed for the call. */
struct vigil_exit_info {
	uint32_t size;
	const char *name;       /* instance */
	int32_t pid;
	int32_t exit_code;      /* -1 when killed by a signal */
	int32_t signal;         /* 0 = none */
	int32_t spawn_failed;   /* 1 = exec failed or the start never became ready */
	uint64_t runtime_ms;    /* how long it ran */
	uint64_t now_ms;        /* monotonic clock now */
};

enum vigil_verdict {
	VIGIL_RESTART_NOW = 0,
	VIGIL_RESTART_AFTER = 1,
	VIGIL_GIVE_UP = 2,
};

struct vigil_decision {
	enum vigil_verdict verdict;
	uint64_t delay_ms;       /* VIGIL_RESTART_AFTER only */
	char reason[128];        /* for the log and process.fatal; may stay empty */
};

/* ops of a VIGIL_KIND_POLICY plugin. Called on the loop thread; must not block.
 *
 * `memory` is a per-instance slot the core keeps for this policy (NULL at first): the policy
 * may allocate its per-process bookkeeping there. The core hands the same slot back on every
 * call for that instance, and calls release() when the instance goes away. */
struct vigil_policy_ops {
	uint32_t size;           /* sizeof(struct vigil_policy_ops) */
	/* Mandatory. Called when an instance exited and its restart mode wants it back.
	 * Fill *out; return 0, or a negative errno (the core then gives up, and logs it). */
	int (*decide)(void *state, void **memory, const struct vigil_exit_info *exit,
	              struct vigil_decision *out);
	/* Optional. An operator started or restarted the instance: forget its failures. */
	void (*reset)(void *state, void **memory);
	/* Optional. The instance is gone: free *memory. */
	void (*release)(void *state, void *memory);
};

#endif
