/* fixed.c — an example restart policy: the same delay every time, optionally giving up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <vigil/sdk.h>

struct fixed {
	const struct vigil_host *host;
	struct vigil_instance *self;
	uint64_t delay_ms;
	uint32_t max_restarts; /* 0 = never give up */
	uint64_t reset_after_ms;
};

/* What the policy remembers about one supervised instance: the core keeps the pointer in a
 * per-instance slot (`memory`) and hands it back on every call for that instance. */
struct fixed_memory {
	uint32_t restarts; /* since the last reset */
};

static const struct vigil_config_key fixed_keys[] = {
    {"delay", VIGIL_KEY_DURATION, "1s", 0, "wait this long before every restart (0 = at once)",
     NULL},
    {"max_restarts", VIGIL_KEY_INT, "0", 0,
     "give up after this many restarts in a row (0 = never give up)", NULL},
    {"reset_after", VIGIL_KEY_DURATION, "60s", 0,
     "a run at least this long forgets the earlier restarts (0 = never)", NULL},
    VIGIL_KEYS_END,
};

static int fixed_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct fixed *f = calloc(1, sizeof *f);

	if (!f)
		return -ENOMEM;
	f->host = host;
	f->self = self;
	*state = f;
	return 0;
}

static int fixed_configure(void *state, const struct vigil_config *cfg)
{
	struct fixed *f = state;
	int64_t max = f->host->cfg_int(cfg, "max_restarts");

	if (max < 0 || max > 1000000) {
		f->host->log(f->self, VIGIL_LOG_ERROR,
		             "max_restarts = %lld: expected 0 (never give up) to 1000000",
		             (long long)max);
		return -EINVAL;
	}
	f->max_restarts = (uint32_t)max;
	f->delay_ms = (uint64_t)f->host->cfg_duration_ms(cfg, "delay");
	f->reset_after_ms = (uint64_t)f->host->cfg_duration_ms(cfg, "reset_after");
	return 0;
}

/* Called on the loop thread when an instance exited and its restart mode wants it back. */
static int fixed_decide(void *state, void **memory, const struct vigil_exit_info *exit,
                        struct vigil_decision *out)
{
	struct fixed *f = state;
	struct fixed_memory *m = *memory;

	if (!m) {
		m = calloc(1, sizeof *m);
		if (!m)
			return -ENOMEM; /* the core gives up on the instance and logs why */
		*memory = m;
	}
	if (f->reset_after_ms && exit->runtime_ms >= f->reset_after_ms)
		m->restarts = 0;
	if (f->max_restarts && m->restarts >= f->max_restarts) {
		out->verdict = VIGIL_GIVE_UP;
		snprintf(out->reason, sizeof out->reason, "gave up after %u restarts in a row",
		         m->restarts);
		return 0;
	}
	m->restarts++;
	out->verdict = f->delay_ms ? VIGIL_RESTART_AFTER : VIGIL_RESTART_NOW;
	out->delay_ms = f->delay_ms;
	return 0;
}

/* An operator started or restarted the instance: it gets a fresh count. */
static void fixed_reset(void *state, void **memory)
{
	struct fixed_memory *m = *memory;

	(void)state;
	if (m)
		m->restarts = 0;
}

/* The instance is gone (removed by a reload, or the daemon exits). */
static void fixed_release(void *state, void *memory)
{
	(void)state;
	free(memory);
}

static void fixed_fini(void *state)
{
	free(state);
}

static const struct vigil_policy_ops fixed_ops = {
    .size = sizeof(struct vigil_policy_ops),
    .decide = fixed_decide,
    .reset = fixed_reset,
    .release = fixed_release,
};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_POLICY, .name = "fixed", .version = "1.0.0",
                    .description = "example: restart after a fixed delay, give up after N",
                    .keys = fixed_keys, .init = fixed_init, .configure = fixed_configure,
                    .fini = fixed_fini, .ops = &fixed_ops);
