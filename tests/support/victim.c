/* victim.c — a test program with misbehaviours on demand, supervised in integration tests. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: victim MODE [ARG...]\n"
	"  sleep [SECONDS]        sleep (default: forever)\n"
	"  exit N [DELAY_MS]      exit with code N (after DELAY_MS)\n"
	"  crash-sometimes MS P   every MS ms exit 1 with probability P%%, else keep running\n"
	"  ignore-term            ignore SIGTERM, sleep forever\n"
	"  double-fork [PIDFILE]  fork a grandchild that sleeps forever in the same process group,\n"
	"                         write its pid to PIDFILE, then sleep\n"
	"  echo TEXT...           print TEXT to stdout and stderr, then sleep\n"
	"  spam N                 print N numbered lines to stdout, then sleep\n"
	"  dump-state FILE        write fds, signal mask, ids, env, rlimits, cwd, umask to FILE,\n"
	"                         then sleep\n";

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void dump_state(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fprintf(f, "pid=%d\nppid=%d\npgid=%d\nsid=%d\n", getpid(), getppid(), getpgid(0), getsid(0));
	fprintf(f, "uid=%d\neuid=%d\ngid=%d\negid=%d\n", getuid(), geteuid(), getgid(), getegid());
	gid_t groups[64];
	int n = getgroups(64, groups);
	fprintf(f, "groups=");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%d", i ? "," : "", groups[i]);
	fprintf(f, "\n");
	fprintf(f, "fds=");
	int first = 1;
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && fd != fileno(f)) {
			fprintf(f, "%s%d", first ? "" : ",", fd);
			first = 0;
		}
	fprintf(f, "\n");
	sigset_t set;
	sigprocmask(SIG_SETMASK, NULL, &set);
	int blocked = 0;
	for (int s = 1; s < 32; s++)
		blocked += sigismember(&set, s) == 1;
	fprintf(f, "blocked_signals=%d\n", blocked);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	fprintf(f, "rlimit_nofile=%llu\n", (unsigned long long)rl.rlim_cur);
	getrlimit(RLIMIT_CORE, &rl);
	fprintf(f, "rlimit_core=%llu\n", (unsigned long long)rl.rlim_cur);
	mode_t m = umask(0);
	umask(m);
	fprintf(f, "umask=%04o\n", (unsigned)m);
	char cwd[4096];
	fprintf(f, "cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?");
	fprintf(f, "no_new_privs=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	extern char **environ;
	for (char **e = environ; *e; e++)
		fprintf(f, "env:%s\n", *e);
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *mode = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "sleep") == 0) {
		if (argc > 2)
			msleep(atol(argv[2]) * 1000);
		else
			sleep_forever();
		return 0;
	}
	if (strcmp(mode, "exit") == 0 && argc > 2) {
		if (argc > 3)
			msleep(atol(argv[3]));
		return atoi(argv[2]);
	}
	if (strcmp(mode, "crash-sometimes") == 0 && argc > 3) {
		srand((unsigned)getpid() ^ (unsigned)time(NULL));
		long ms = atol(argv[2]);
		int pct = atoi(argv[3]);
		for (;;) {
			msleep(ms);
			printf("tick\n");
			if (rand() % 100 < pct) {
				fprintf(stderr, "victim: crashing on purpose\n");
				return 1;
			}
		}
	}
	if (strcmp(mode, "ignore-term") == 0) {
		signal(SIGTERM, SIG_IGN);
		printf("ignoring SIGTERM\n");
		sleep_forever();
	}
	if (strcmp(mode, "double-fork") == 0) {
		pid_t c = fork();
		if (c == 0) {
			if (fork() == 0) {
				signal(SIGTERM, SIG_IGN);
				sleep_forever();
			}
			_exit(0);
		}
		waitpid(c, NULL, 0);
		if (argc > 2) {
			/* The grandchild is the only other member of our process group. */
			FILE *f = fopen(argv[2], "w");
			if (f) {
				fprintf(f, "%d\n", getpgid(0));
				fclose(f);
			}
		}
		sleep_forever();
	}
	if (strcmp(mode, "echo") == 0) {
		for (int i = 2; i < argc; i++) {
			printf("%s%s", argv[i], i + 1 < argc ? " " : "\n");
			fprintf(stderr, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
		}
		fflush(stdout);
		sleep_forever();
	}
	if (strcmp(mode, "spam") == 0 && argc > 2) {
		long n = atol(argv[2]);
		for (long i = 0; i < n; i++)
			printf("line %ld\n", i);
		fflush(stdout);
		sleep_forever();
	}
	if (strcmp(mode, "dump-state") == 0 && argc > 2) {
		dump_state(argv[2]);
		sleep_forever();
	}
	fputs(usage, stderr);
	return 2;
}
