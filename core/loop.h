/* loop.h — the one epoll loop: fd watches, a timer heap, signals through signalfd. */
#ifndef VIGIL_CORE_LOOP_H
#define VIGIL_CORE_LOOP_H

#include <stdint.h>

struct loop_watch;
struct loop_timer;

typedef void (*loop_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(void *arg);
typedef void (*loop_signal_fn)(int signo, void *arg);

/* Creates the epoll instance and the signalfd (blocking the given signals, 0-terminated).
 * 0 or -errno. */
int loop_init(const int *signals);
void loop_fini(void);

/* Runs until loop_quit(); returns the code given to it. Each turn: wait for fds or the next
 * timer (or not at all while the bus has deliveries queued), run what is due, then drain the
 * bus. */
int loop_run(void);
void loop_quit(int code);

void loop_on_signal(loop_signal_fn fn, void *arg);

/* Level-triggered watch; events are EPOLL* bits. The fd stays the caller's. NULL + errno. */
struct loop_watch *loop_watch(int fd, uint32_t events, loop_fd_fn fn, void *arg);
int loop_watch_modify(struct loop_watch *w, uint32_t events);
/* Safe to call from inside any callback, including the watch's own. */
void loop_unwatch(struct loop_watch *w);

/* Fires after delay_ms, then every period_ms when > 0. One-shot timers are freed after they
 * fire. NULL on ENOMEM. Cancel is safe inside callbacks (not on a fired one-shot). */
struct loop_timer *loop_timer_add(uint64_t delay_ms, uint64_t period_ms, loop_timer_fn fn,
                                  void *arg);
void loop_timer_cancel(struct loop_timer *t);

uint64_t loop_now_ms(void); /* CLOCK_MONOTONIC */
uint64_t loop_now_us(void);
int64_t loop_wall_ms(void); /* CLOCK_REALTIME */
int64_t loop_wall_us(void);

#endif
