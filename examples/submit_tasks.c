/* submit_tasks.c — libvigil-client example: 100 tasks of mixed priority, and their results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/client.h>

/*
 *   vigild -c examples/demo.ini &
 *   submit_tasks [-s SOCKET] [-p POOL] [-n COUNT]      (SOCKET defaults to $VIGIL_SOCKET)
 *
 * Every task is `/bin/sh -c 'sleep 0.0X; exit N'`: most succeed, every seventh fails with
 * exit 3, every nineteenth kills itself with SIGTERM. Priorities go round low, normal, high,
 * critical, so a pool with few slots runs the critical ones first. The program waits for each
 * task and prints one line per task, then a summary; it exits 0 when every task was accepted
 * and finished as planned.
 */

#define MAX_TASKS 1000

struct job {
	char id[64];
	char name[32];
	enum vigil_priority prio;
	int want; /* the exit status planned for it */
};

int main(int argc, char **argv)
{
	const char *sock = NULL, *pool = NULL;
	static struct job jobs[MAX_TASKS];
	int n = 100, err = 0, i, unexpected = 0, by_state[VIGIL_TASK_STATE_COUNT] = {0};
	struct vigil_client *c;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			pool = argv[++i];
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			n = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: submit_tasks [-s SOCKET] [-p POOL] [-n COUNT]\n");
			return 2;
		}
	}
	if (n < 1 || n > MAX_TASKS) {
		fprintf(stderr, "submit_tasks: COUNT must be 1 to %d\n", MAX_TASKS);
		return 2;
	}
	c = vigil_client_connect(sock, &err);
	if (!c) {
		fprintf(stderr, "submit_tasks: cannot reach vigild at %s: %s\n",
		        sock                     ? sock
		        : getenv("VIGIL_SOCKET") ? getenv("VIGIL_SOCKET")
		                                 : "(no socket)",
		        strerror(-err));
		return 4;
	}

	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		char script[64];
		const char *args[] = {"/bin/sh", "-c", script, NULL};
		struct vigil_task_spec spec = {.size = sizeof spec};
		int rc;

		j->prio = (enum vigil_priority)(i % VIGIL_PRIO_COUNT);
		j->want = i % 19 == 18 ? 128 + 15 : i % 7 == 6 ? 3 : 0;
		snprintf(j->name, sizeof j->name, "job-%03d", i + 1);
		if (j->want == 128 + 15)
			snprintf(script, sizeof script, "sleep 0.0%d; kill -TERM $$", i % 10);
		else
			snprintf(script, sizeof script, "sleep 0.0%d; exit %d", i % 10, j->want);
		spec.pool = pool;
		spec.name = j->name;
		spec.type = "example";
		spec.priority = j->prio;
		spec.argv = args;
		rc = vigil_client_submit(c, &spec, j->id, sizeof j->id);
		if (rc != 0) {
			/* VIGIL_CLIENT_TEMPFAIL: the pool's queue is full; NOENT: no such pool */
			fprintf(stderr, "submit_tasks: %s: %s\n", j->name, vigil_client_error(c));
			vigil_client_close(c);
			return rc > 0 ? rc : 1;
		}
	}
	printf("submitted %d tasks\n", n);

	for (i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		struct vigil_client_task t = {.size = sizeof t};
		int rc = vigil_client_wait(c, j->id, 0, &t), status;

		if (rc != 0) {
			fprintf(stderr, "submit_tasks: wait %s: %s\n", j->id,
			        vigil_client_error(c));
			vigil_client_close(c);
			return rc > 0 ? rc : 1;
		}
		status = vigil_client_exit_status(&t);
		by_state[t.state]++;
		if (status != j->want)
			unexpected++;
		printf("%-8s %-16s %-8s %-9s exit %-3d %6.3fs cpu %.3fs%s\n", j->name, t.id,
		       vigil_priority_name(j->prio), vigil_task_state_name(t.state), status,
		       t.duration_s, t.cpu_s < 0 ? 0 : t.cpu_s,
		       status == j->want ? "" : "  (unexpected)");
	}
	printf("done:");
	for (i = 0; i < VIGIL_TASK_STATE_COUNT; i++)
		if (by_state[i])
			printf(" %d %s", by_state[i],
			       vigil_task_state_name((enum vigil_task_state)i));
	printf(", %d unexpected\n", unexpected);
	vigil_client_close(c);
	return unexpected ? 1 : 0;
}
