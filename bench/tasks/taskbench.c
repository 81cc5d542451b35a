/* taskbench.c — task throughput and submit-to-start latency through libvigil-client.
 *
 *   taskbench -s SOCKET -p POOL -n N            submit N tasks of /bin/true, wait for all;
 *                                               prints the wall time and tasks/s
 *   taskbench -s SOCKET -p POOL -n N --latency  submit one at a time into an idle pool and
 *                                               print p50/p99 of submit -> task.started, as a
 *                                               client sees it (request, spawn, the event) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vigil/client.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Reads what the event stream holds; counts finished tasks, keeps started latencies. */
static int drain(struct vigil_client *ev, int64_t timeout_ms, int *finished, double *lat,
                 int *nlat, int max)
{
	struct vigil_client_event e;
	int got = 0;
	while (vigil_client_events_next(ev, &e, got ? 0 : timeout_ms) == 0) {
		got++;
		if (strcmp(e.type, "task.finished") == 0) {
			(*finished)++;
		} else if (strcmp(e.type, "task.started") == 0 && *nlat < max) {
			double q;
			if (vigil_client_event_num(&e, "queued_ms", &q) == 0)
				lat[(*nlat)++] = q;
		}
	}
	return got;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *pool = "default";
	int n = 1000, latency = 0, err = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "-p") && i + 1 < argc)
			pool = argv[++i];
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--latency"))
			latency = 1;
		else {
			fprintf(stderr, "usage: taskbench -s SOCKET [-p POOL] [-n N] [--latency]\n");
			return 2;
		}
	}
	struct vigil_client *ev = vigil_client_connect(sock, &err);
	struct vigil_client *c = vigil_client_connect(sock, &err);
	if (!ev || !c) {
		fprintf(stderr, "taskbench: cannot connect to %s\n", sock ? sock : "(default)");
		return 4;
	}
	static const char *const types[] = {"task.started", "task.finished", NULL};
	if (vigil_client_events_open(ev, types, NULL, 0) != 0) {
		fprintf(stderr, "taskbench: cannot open the event stream\n");
		return 1;
	}
	double *lat = calloc((size_t)n, sizeof *lat);
	int nlat = 0, finished = 0;
	const char *argv_true[] = {"/bin/true", NULL};
	struct vigil_task_spec spec = {.size = sizeof spec, .pool = pool, .argv = argv_true,
	                               .priority = VIGIL_PRIO_NORMAL};
	char id[64];
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		double t_submit = now_s();
		if (vigil_client_submit(c, &spec, id, sizeof id) != 0) {
			fprintf(stderr, "taskbench: submit %d: %s\n", i, vigil_client_error(c));
			return 1;
		}
		if (latency) {
			/* one at a time: time this task's task.started, then let it finish */
			double sent = t_submit;
			int before = nlat;
			while (nlat == before)
				if (!drain(ev, 10000, &finished, lat, &nlat, n))
					return fprintf(stderr, "taskbench: no event in 10 s\n"), 1;
			lat[before] = (now_s() - sent) * 1000;
			while (finished <= i)
				if (!drain(ev, 10000, &finished, lat, &nlat, n))
					return fprintf(stderr, "taskbench: no event in 10 s\n"), 1;
		} else if (i % 50 == 49) {
			drain(ev, 0, &finished, lat, &nlat, n);
		}
	}
	while (finished < n)
		if (!drain(ev, 30000, &finished, lat, &nlat, n))
			return fprintf(stderr, "taskbench: stalled at %d/%d finished\n", finished, n), 1;
	double wall = now_s() - t0;
	if (latency) {
		qsort(lat, (size_t)nlat, sizeof *lat, cmp);
		printf("tasks=%d submit_to_started_ms_p50=%.2f p99=%.2f\n", nlat, lat[nlat / 2],
		       lat[(nlat * 99) / 100 < nlat ? (nlat * 99) / 100 : nlat - 1]);
	} else {
		printf("tasks=%d wall_s=%.3f tasks_per_s=%.0f\n", n, wall, n / wall);
	}
	vigil_client_close(c);
	vigil_client_close(ev);
	free(lat);
	return 0;
}
