/* fsm.h — the per-instance supervision state machine, as a pure table-driven function. */
#ifndef VIGIL_CORE_FSM_H
#define VIGIL_CORE_FSM_H

#include <vigil/proc.h>

enum fsm_event {
	FE_START = 0,      /* someone wants it up */
	FE_STOP,           /* someone wants it down */
	FE_SPAWNED,        /* exec confirmed */
	FE_SPAWN_FAILED,   /* fork or exec failed */
	FE_READY,          /* readiness reached */
	FE_EXIT,           /* main process reaped */
	FE_TIMEOUT,        /* the state's timer fired (start, stop or backoff) */
	FE_RESTART_NOW,    /* policy verdicts, after FA_DECIDE */
	FE_RESTART_LATER,
	FE_GIVE_UP,
	FE_NO_RESTART,     /* the restart mode says no */
	FE_COUNT
};

/* Actions, performed by the caller in this bit order. */
enum fsm_action {
	FA_CANCEL_TIMER = 1u << 0,
	FA_SPAWN = 1u << 1,          /* fork+exec; arm the start timer */
	FA_SIGNAL_STOP = 1u << 2,    /* send stop_signal; arm the stop timer */
	FA_SIGNAL_KILL = 1u << 3,    /* SIGKILL the main process / tree */
	FA_ARM_BACKOFF = 1u << 4,    /* arm the backoff timer with the decided delay */
	FA_DECIDE = 1u << 5,         /* ask restart mode + policy; feeds back a verdict event */
	FA_PUBLISH = 1u << 6,        /* publish the event for the new state */
};

struct fsm_step {
	enum vigil_proc_state next;
	unsigned actions;
};

/* The transition for event in state. Returns 0, or -1 when the event means nothing in that
 * state (the caller ignores it; *out is left untouched). */
int fsm_step(enum vigil_proc_state state, enum fsm_event event, struct fsm_step *out);
const char *fsm_event_name(enum fsm_event event);

#endif
