/* sup_int.h — what the supervision files (sup.c, sup_recover.c, sup_reload.c) share. */
#ifndef VIGIL_CORE_SUP_INT_H
#define VIGIL_CORE_SUP_INT_H

#include <sys/resource.h>
#include <sys/types.h>

#include "fsm.h"
#include "inst.h"
#include "namemap.h"
#include "sup.h"

struct sup_state {
	const struct vigil_conf *conf;
	struct loader_set *plugins;
	struct vigil_instance *store;
	struct proc **procs; /* config order */
	size_t nprocs;
	struct proc **pidtab; /* open addressing, pid -> proc */
	size_t pidcap;
	size_t pidcount, pidtombs;
	int shutting_down;
	struct loop_timer *shutdown_timer;
	char boot_id[40];
	struct vigil_sub *metrics_sub;
	struct loop_timer *sweep_timer;
	char fifo_dir[4096];           /* where the capture FIFOs live (logcap_fifo_dir) */
	struct namemap byname;         /* instance name -> proc (the live one when names repeat) */
	sup_reap_fn reap_hooks[4];
	int nreap_hooks;
	int maybe_waiting;             /* some instance may wait for its dependencies */
	int maybe_lingering;           /* some group may outlive its main process */
	struct loop_timer *reap_timer; /* the rest of a reap, after the loop's I/O */
	uid_t euid;                    /* ours: it never changes */
};
extern struct sup_state sup_g;
/* The longest stretch of one kind of work (reaping, starting everything) in one loop turn. */
#define SUP_SLICE_US 2000
#define S sup_g

void sup_step(struct proc *p, enum fsm_event ev);
void sup_publish_state(struct proc *p, enum fsm_event ev);
void sup_pid_put(struct proc *p);
void sup_pid_del(struct proc *p);
struct proc *sup_pid_get(pid_t pid, size_t *slot);
int sup_is_down(const struct proc *p);
void sup_store_put(struct proc *p);
void sup_store_remove(struct proc *p);
void sup_signal(struct proc *p, int sig);
void sup_kill_main(struct proc *p, int sig);
/* Opens (or reopens, after a restart of vigild) the capture of one stream. 0 or -errno. */
int sup_open_capture(struct proc *p, struct logcap *lc, const char *stream);
void sup_request_start(struct proc *p);
void sup_request_stop(struct proc *p, const char *reason);
void sup_start_waiting(void);
struct proc *sup_find(const char *name);
void sup_cancel_timer(struct proc *p);
void sup_arm_timer(struct proc *p, int64_t ms);
void sup_finish_exit(struct proc *p);
void sup_detach_monitors(struct proc *p);
/* sup_spawn.c */
void sup_spawn(struct proc *p);
/* Between begin and run, starts are prepared and then launched together from two threads
 * (starting everything); sup_batch_full says when to stop adding. */
void sup_batch_begin(void);
int sup_batch_full(void);
void sup_batch_run(void);
void sup_spawn_outcome(struct proc *p);
void sup_close_spawn_pipe(struct proc *p);
/* sup_order.c */
void sup_advance_shutdown(void);
/* sup_reload.c: frees removed instances once down; frees replaced configurations. */
void sup_schedule_sweep(void);
void sup_reload_fini(void);

#endif
