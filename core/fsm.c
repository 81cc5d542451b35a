/* fsm.c — the supervision transition table: (state, event) -> (next state, actions). */
#include "fsm.h"

#define S(st) (VIGIL_PROC_##st + 1) /* 0 in the table means "no transition" */
#define T(st, acts) {S(st), (acts)}

struct cell {
	int next; /* S(state), 0 = invalid */
	unsigned actions;
};

enum {
	SPAWN = FA_CANCEL_TIMER | FA_SPAWN | FA_PUBLISH,
	STOPSIG = FA_CANCEL_TIMER | FA_SIGNAL_STOP | FA_PUBLISH,
	DECIDE = FA_CANCEL_TIMER | FA_DECIDE | FA_PUBLISH,
};

/* Rows: states; columns: FE_START, FE_STOP, FE_SPAWNED, FE_SPAWN_FAILED, FE_READY, FE_EXIT,
 * FE_TIMEOUT, FE_RESTART_NOW, FE_RESTART_LATER, FE_GIVE_UP, FE_NO_RESTART. */
static const struct cell table[VIGIL_PROC_STATE_COUNT][FE_COUNT] = {
	[VIGIL_PROC_STOPPED] = {
		[FE_START] = T(STARTING, SPAWN),
		[FE_STOP] = T(STOPPED, 0),
		[FE_EXIT] = T(STOPPED, 0),
		[FE_RESTART_NOW] = T(STARTING, SPAWN),
		[FE_RESTART_LATER] = T(BACKOFF, FA_ARM_BACKOFF | FA_PUBLISH),
		[FE_GIVE_UP] = T(FATAL, FA_PUBLISH),
		[FE_NO_RESTART] = T(STOPPED, 0),
	},
	[VIGIL_PROC_STARTING] = {
		[FE_START] = T(STARTING, 0),
		[FE_STOP] = T(STOPPING, STOPSIG),
		[FE_SPAWNED] = T(STARTING, FA_PUBLISH),
		[FE_SPAWN_FAILED] = T(EXITED, DECIDE),
		[FE_READY] = T(RUNNING, FA_CANCEL_TIMER | FA_PUBLISH),
		[FE_EXIT] = T(EXITED, DECIDE),
		[FE_TIMEOUT] = T(STOPPING, STOPSIG),
	},
	[VIGIL_PROC_RUNNING] = {
		[FE_START] = T(RUNNING, 0),
		[FE_STOP] = T(STOPPING, STOPSIG),
		[FE_READY] = T(RUNNING, 0),
		[FE_EXIT] = T(EXITED, DECIDE),
	},
	[VIGIL_PROC_STOPPING] = {
		[FE_START] = T(STOPPING, 0),
		[FE_STOP] = T(STOPPING, 0),
		[FE_EXIT] = T(STOPPED, FA_CANCEL_TIMER | FA_PUBLISH),
		[FE_TIMEOUT] = T(STOPPING, FA_SIGNAL_KILL),
	},
	[VIGIL_PROC_EXITED] = {
		[FE_START] = T(STARTING, SPAWN),
		[FE_STOP] = T(STOPPED, 0),
		[FE_RESTART_NOW] = T(STARTING, SPAWN),
		[FE_RESTART_LATER] = T(BACKOFF, FA_ARM_BACKOFF | FA_PUBLISH),
		[FE_GIVE_UP] = T(FATAL, FA_PUBLISH),
		[FE_NO_RESTART] = T(EXITED, 0),
	},
	[VIGIL_PROC_BACKOFF] = {
		[FE_START] = T(STARTING, SPAWN),
		[FE_STOP] = T(STOPPED, FA_CANCEL_TIMER),
		[FE_TIMEOUT] = T(STARTING, SPAWN),
	},
	[VIGIL_PROC_FATAL] = {
		[FE_START] = T(STARTING, SPAWN),
		[FE_STOP] = T(FATAL, 0),
	},
	[VIGIL_PROC_ADOPTED] = {
		[FE_START] = T(ADOPTED, 0),
		[FE_STOP] = T(STOPPING, STOPSIG),
		[FE_EXIT] = T(EXITED, DECIDE),
	},
	[VIGIL_PROC_UNKNOWN] = {
		[FE_START] = T(STARTING, SPAWN),
		[FE_STOP] = T(STOPPED, 0),
	},
};

int fsm_step(enum vigil_proc_state state, enum fsm_event event, struct fsm_step *out)
{
	if ((unsigned)state >= VIGIL_PROC_STATE_COUNT || (unsigned)event >= FE_COUNT)
		return -1;
	const struct cell *c = &table[state][event];
	if (!c->next)
		return -1;
	out->next = (enum vigil_proc_state)(c->next - 1);
	out->actions = c->actions;
	return 0;
}

const char *fsm_event_name(enum fsm_event event)
{
	static const char *const names[FE_COUNT] = {
		"start", "stop", "spawned", "spawn-failed", "ready", "exit",
		"timeout", "restart-now", "restart-later", "give-up", "no-restart"};
	return (unsigned)event < FE_COUNT ? names[event] : "?";
}
