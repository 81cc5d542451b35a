/* backoff.c — the default restart policy: exponential backoff, jitter, a give-up window. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/sdk.h>

struct backoff {
	const struct vigil_host *host;
	struct vigil_instance *self;
	uint64_t initial, max, reset_after, window;
	double multiplier, jitter;
	uint32_t max_restarts;
	uint64_t rng; /* our own generator: rand() state would be shared with everything */
};

/* What the policy remembers about one supervised instance. */
struct backoff_memory {
	uint64_t delay;  /* base delay (before jitter) of the last restart */
	uint32_t streak; /* restarts since the last reset: 0 = the next waits `initial` */
	uint32_t cap;    /* ring capacity: max_restarts when the ring was sized */
	uint32_t head, count;
	uint64_t times[]; /* ring of the monotonic times of the restarts within the window */
};

static const struct vigil_config_key backoff_keys[] = {
    {"initial", VIGIL_KEY_DURATION, "1s", 0,
     "delay of the first restart after a reset (0 = restart at once, every time)", NULL},
    {"max", VIGIL_KEY_DURATION, "60s", 0, "longest delay, jitter included", NULL},
    {"multiplier", VIGIL_KEY_DOUBLE, "2", 0, "each next delay is this many times longer (>= 1)",
     NULL},
    {"jitter", VIGIL_KEY_DOUBLE, "0.2", 0, "random spread of a delay, 0..1 (0.2 = +-20%)", NULL},
    {"reset_after", VIGIL_KEY_DURATION, "60s", 0,
     "a run at least this long forgets earlier failures (0 = never)", NULL},
    {"max_restarts", VIGIL_KEY_INT, "10", 0,
     "give up after this many restarts within window (0 = never give up)", NULL},
    {"window", VIGIL_KEY_DURATION, "5m", 0, "the span max_restarts counts over", NULL},
    VIGIL_KEYS_END,
};

/* splitmix64, to spread a weak seed over all 64 bits. */
static uint64_t backoff_mix(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* xorshift64*: a uniform double in [0, 1). */
static double backoff_random(struct backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return (double)((b->rng * UINT64_C(0x2545f4914f6cdd1d)) >> 11) * 0x1.0p-53;
}

/* "5m", "90s", "1500ms": the largest unit that divides exactly. */
static void backoff_fmt(char *buf, size_t len, uint64_t ms)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (ms && ms % units[i].ms == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ms / units[i].ms, units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64 "ms", ms);
}

static int backoff_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct backoff *b = calloc(1, sizeof *b);

	if (!b)
		return -ENOMEM;
	b->host = host;
	b->self = self;
	b->rng = backoff_mix((uint64_t)host->wall_ms() ^ host->now_ms() ^ (uintptr_t)b);
	if (!b->rng)
		b->rng = 1;
	*state = b;
	return 0;
}

/* configure() refuses the section: say why in the log (the core names the instance). */
VIGIL_PRINTF(2, 3)
static int backoff_refuse(struct backoff *b, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	b->host->log(b->self, VIGIL_LOG_ERROR, "%s", msg);
	return -EINVAL;
}

static int backoff_configure(void *state, const struct vigil_config *cfg)
{
	struct backoff *b = state;
	const struct vigil_host *h = b->host;
	int64_t max_restarts = h->cfg_int(cfg, "max_restarts");
	char s1[32], s2[32];

	b->initial = (uint64_t)h->cfg_duration_ms(cfg, "initial");
	b->max = (uint64_t)h->cfg_duration_ms(cfg, "max");
	b->multiplier = h->cfg_double(cfg, "multiplier");
	b->jitter = h->cfg_double(cfg, "jitter");
	b->reset_after = (uint64_t)h->cfg_duration_ms(cfg, "reset_after");
	b->window = (uint64_t)h->cfg_duration_ms(cfg, "window");

	if (b->max < b->initial) {
		backoff_fmt(s1, sizeof s1, b->max);
		backoff_fmt(s2, sizeof s2, b->initial);
		return backoff_refuse(
		    b, "max = %s is shorter than initial = %s: max must be >= initial", s1, s2);
	}
	if (!(b->multiplier >= 1.0 && b->multiplier <= 1000.0))
		return backoff_refuse(b, "multiplier = %g: expected a number from 1 to 1000",
		                      b->multiplier);
	if (!(b->jitter >= 0.0 && b->jitter <= 1.0))
		return backoff_refuse(b, "jitter = %g: expected a number from 0 to 1", b->jitter);
	if (max_restarts < 0 || max_restarts > 100000)
		return backoff_refuse(
		    b, "max_restarts = %" PRId64 ": expected 0 (never give up) to 100000",
		    max_restarts);
	b->max_restarts = (uint32_t)max_restarts;
	if (b->max_restarts && !b->window)
		return backoff_refuse(b, "window = 0: max_restarts needs a window to count in");
	return 0;
}

static void backoff_fini(void *state)
{
	free(state);
}

/* The instance's memory, sized for the current max_restarts (a reload may have changed it:
 * then the newest restart times are kept). */
static struct backoff_memory *backoff_memory(struct backoff *b, void **memory)
{
	struct backoff_memory *m = *memory, *n;

	if (m && m->cap == b->max_restarts)
		return m;
	n = calloc(1, sizeof *n + (size_t)b->max_restarts * sizeof n->times[0]);
	if (!n)
		return NULL;
	n->cap = b->max_restarts;
	if (m) {
		uint32_t keep = m->count < n->cap ? m->count : n->cap;

		n->delay = m->delay;
		n->streak = m->streak;
		for (uint32_t i = 0; i < keep; i++)
			n->times[i] = m->times[(m->head + m->count - keep + i) % m->cap];
		n->count = keep;
		free(m);
	}
	*memory = n;
	return n;
}

static void backoff_forget(struct backoff_memory *m)
{
	m->delay = 0;
	m->streak = 0;
	m->head = 0;
	m->count = 0;
}

static uint64_t backoff_next_base(const struct backoff *b, const struct backoff_memory *m)
{
	double next;

	if (m->streak == 0)
		return b->initial;
	next = (double)m->delay * b->multiplier;
	return next >= (double)b->max ? b->max : (uint64_t)(next + 0.5);
}

/* base * (1 +- jitter * r), r uniform in [-1, 1], kept within [0, max]. */
static uint64_t backoff_jitter(struct backoff *b, uint64_t base)
{
	double d;

	if (b->jitter <= 0.0 || base == 0)
		return base;
	d = (double)base * (1.0 + b->jitter * (2.0 * backoff_random(b) - 1.0));
	if (d <= 0.0)
		return 0;
	return d >= (double)b->max ? b->max : (uint64_t)(d + 0.5);
}

static int backoff_decide(void *state, void **memory, const struct vigil_exit_info *exit,
                          struct vigil_decision *out)
{
	struct backoff *b = state;
	struct backoff_memory *m = backoff_memory(b, memory);
	uint64_t now = exit->now_ms, base;
	char win[32], wait[32];

	if (!m)
		return -ENOMEM;
	if (b->reset_after && exit->runtime_ms >= b->reset_after)
		backoff_forget(m);
	while (m->count && now - m->times[m->head] >= b->window) {
		m->head = (m->head + 1) % m->cap;
		m->count--;
	}

	backoff_fmt(win, sizeof win, b->window);
	if (b->max_restarts && m->count >= b->max_restarts) {
		out->verdict = VIGIL_GIVE_UP;
		out->delay_ms = 0;
		snprintf(out->reason, sizeof out->reason, "%" PRIu32 " restarts within %s",
		         m->count, win);
		return 0;
	}

	base = backoff_next_base(b, m);
	m->delay = base;
	m->streak++;
	if (b->max_restarts) {
		m->times[(m->head + m->count) % m->cap] = now;
		m->count++;
	}
	out->delay_ms = backoff_jitter(b, base);
	out->verdict = out->delay_ms ? VIGIL_RESTART_AFTER : VIGIL_RESTART_NOW;
	backoff_fmt(wait, sizeof wait, out->delay_ms);
	if (b->max_restarts)
		snprintf(out->reason, sizeof out->reason,
		         "restart %" PRIu32 " of %" PRIu32 " within %s, after %s", m->count,
		         b->max_restarts, win, wait);
	else
		snprintf(out->reason, sizeof out->reason, "restart %" PRIu32 " after %s", m->streak,
		         wait);
	return 0;
}

static void backoff_reset(void *state, void **memory)
{
	(void)state;
	if (*memory)
		backoff_forget(*memory);
}

static void backoff_release(void *state, void *memory)
{
	(void)state;
	free(memory);
}

static const struct vigil_policy_ops backoff_ops = {
    .size = sizeof(struct vigil_policy_ops),
    .decide = backoff_decide,
    .reset = backoff_reset,
    .release = backoff_release,
};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_POLICY, .name = "backoff", .version = VIGIL_VERSION_STRING,
                    .description = "exponential backoff with jitter; gives up after max_restarts "
                                   "restarts within window",
                    .keys = backoff_keys, .init = backoff_init, .configure = backoff_configure,
                    .fini = backoff_fini, .ops = &backoff_ops);
