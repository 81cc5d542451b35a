/* floor.c — the bare spawn floor: N `sleep`s from a minimal posix_spawn loop, no supervisor. */
/*
 * usage: floor N THREADS RUNID SLEEP_PATH
 * Spawns `sleep 999999.RUNID I` for I = 0..N-1 from THREADS threads (1 = the plain
 * single-threaded loop the target refers to), prints "ok SECONDS" — the time until
 * every child has exec'd — then kills and reaps them all.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

struct job {
	long from, to;
	pid_t *pids;
	const char *path, *tag;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg)
{
	struct job *j = arg;
	char idx[32];
	char *av[] = {(char *)"sleep", (char *)j->tag, idx, NULL};
	for (long i = j->from; i < j->to; i++) {
		snprintf(idx, sizeof idx, "%ld", i);
		if (posix_spawn(&j->pids[i], j->path, NULL, NULL, av, environ) != 0)
			j->pids[i] = 0;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: floor N THREADS RUNID SLEEP_PATH\n");
		return 2;
	}
	long n = atol(argv[1]);
	int threads = atoi(argv[2]);
	if (n < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "floor: N must be >= 1 and THREADS 1..64\n");
		return 2;
	}
	char tag[64];
	snprintf(tag, sizeof tag, "999999.%s", argv[3]);
	pid_t *pids = calloc((size_t)n, sizeof *pids);
	struct job jobs[64];
	pthread_t th[64];
	if (!pids)
		return 1;
	/* glibc's posix_spawn returns only after the child has exec'd (CLONE_VFORK), so when the
	 * last call returns, all N run. */
	uint64_t t0 = now_ns();
	for (int t = 0; t < threads; t++) {
		jobs[t] = (struct job){n * t / threads, n * (t + 1) / threads, pids, argv[4], tag};
		if (threads == 1)
			run(&jobs[t]);
		else
			pthread_create(&th[t], NULL, run, &jobs[t]);
	}
	if (threads > 1)
		for (int t = 0; t < threads; t++)
			pthread_join(th[t], NULL);
	uint64_t t1 = now_ns();
	long ok = 0;
	for (long i = 0; i < n; i++)
		if (pids[i] > 0 && kill(pids[i], SIGKILL) == 0)
			ok++;
	for (long i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
	free(pids);
	if (ok != n)
		printf("failed %ld of %ld spawns\n", n - ok, n);
	else
		printf("ok %.6f\n", (double)(t1 - t0) / 1e9);
	return ok == n ? 0 : 1;
}
