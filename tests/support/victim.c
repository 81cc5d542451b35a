/* victim.c — a test program with misbehaviours on demand, supervised in integration tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
	"  fork-bomb DEPTH        every process forks 3 children (down to DEPTH levels, so at most\n"
	"                         (3^(DEPTH+1)-1)/2 processes), retrying failed forks, then sleeps\n"
	"  spin                   burn CPU forever\n"
	"  dump-state FILE        write fds, signal mask, ids, env, rlimits, cwd, umask to FILE,\n"
	"                         then sleep\n"
	"  notify [DELAY_MS]      after DELAY_MS send READY=1 to $NOTIFY_SOCKET, then WATCHDOG=1\n"
	"                         every WATCHDOG_USEC/2 until SIGUSR1 (stop pinging), forever\n"
	"  notify-child           a forked child (same session) sends READY=1, both sleep\n"
	"  not-ready              never signals readiness; sleep forever\n"
	"  listen PORT [DELAY_MS] after DELAY_MS listen on 127.0.0.1:PORT and answer every HTTP\n"
	"                         request 200 (GET /status/NNN answers NNN); SIGUSR1 closes the\n"
	"                         listener, the next SIGUSR1 opens it again\n"
	"  alloc N                allocate and touch N MiB, then sleep\n"
	"  leak KIB [STEP_MS]     every STEP_MS ms (default 100) allocate and touch KIB more KiB,\n"
	"                         forever (a steady memory leak)\n";

static volatile sig_atomic_t got_usr1;

static void on_usr1(int signo)
{
	(void)signo;
	got_usr1++;
}

static void catch_usr1(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* sd_notify(3) in a few lines: a path, or "@name" for the abstract namespace. */
static int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t r = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
	                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
	return r < 0 ? -1 : 0;
}

static int open_listener(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0) {
		perror("victim: listen");
		exit(3);
	}
	printf("listening on %d\n", port);
	return fd;
}

/* Answers one connection: a bare connect (a tcp: check) just closes; an HTTP request gets
 * 200, or NNN for GET /status/NNN. */
static void answer(int c)
{
	char req[2048];
	size_t n = 0;
	struct pollfd pf = {.fd = c, .events = POLLIN};
	while (n < sizeof req - 1 && poll(&pf, 1, 1000) > 0) {
		ssize_t r = read(c, req + n, sizeof req - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[n] = '\0';
	if (n == 0)
		return;
	int code = 200;
	const char *st = strstr(req, " /status/");
	if (st)
		code = atoi(st + 9);
	char resp[128];
	int len = snprintf(resp, sizeof resp,
	                   "HTTP/1.0 %d Victim\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"
	                   "ok\n",
	                   code);
	ssize_t w = write(c, resp, (size_t)len);
	(void)w;
}

static void serve(int port)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	catch_usr1();
	int ls = open_listener(port);
	int seen = 0;
	for (;;) {
		if (got_usr1 != seen) {
			seen = got_usr1;
			if (ls >= 0) {
				close(ls);
				ls = -1;
				printf("closed the listener\n");
			} else {
				ls = open_listener(port);
			}
		}
		if (ls < 0) {
			sigsuspend(&old);
			continue;
		}
		struct pollfd pf = {.fd = ls, .events = POLLIN};
		if (ppoll(&pf, 1, NULL, &old) <= 0)
			continue;
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0) {
			answer(c);
			close(c);
		}
	}
}

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

/* Allocates and touches (so it is resident) `kib` KiB that are never freed. */
static void touch_kib(long kib)
{
	size_t len = (size_t)kib * 1024;
	volatile char *p = malloc(len);
	if (!p) {
		perror("victim: malloc");
		exit(4);
	}
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
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
	int ignored = 0;
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;
		ignored += sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
	}
	fprintf(f, "ignored_signals=%d\n", ignored);
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
	if (strcmp(mode, "fork-bomb") == 0 && argc > 2) {
		int depth = atoi(argv[2]);
		while (depth-- > 0) {
			int made = 0;
			while (made < 3) {
				pid_t c = fork();
				if (c == 0)
					break; /* the child goes one level down */
				if (c > 0)
					made++;
				else
					msleep(20); /* held at a limit: keep trying, gently */
			}
			if (made == 3)
				break;
		}
		sleep_forever();
	}
	if (strcmp(mode, "spin") == 0) {
		for (volatile unsigned long i = 0;; i++)
			;
	}
	if (strcmp(mode, "dump-state") == 0 && argc > 2) {
		dump_state(argv[2]);
		sleep_forever();
	}
	if (strcmp(mode, "notify") == 0) {
		catch_usr1();
		if (argc > 2)
			msleep(atol(argv[2]));
		if (notify_send("READY=1\nSTATUS=serving") < 0)
			perror("victim: notify");
		const char *wd = getenv("WATCHDOG_USEC");
		long half_ms = wd ? atol(wd) / 2000 : 0;
		for (;;) {
			if (half_ms > 0 && !got_usr1) {
				notify_send("WATCHDOG=1");
				msleep(half_ms);
			} else {
				pause();
			}
		}
	}
	if (strcmp(mode, "notify-child") == 0) {
		if (fork() == 0) {
			notify_send("STATUS=the child speaks\nREADY=1");
			sleep_forever();
		}
		sleep_forever();
	}
	if (strcmp(mode, "not-ready") == 0)
		sleep_forever();
	if (strcmp(mode, "alloc") == 0 && argc > 2) {
		touch_kib(atol(argv[2]) * 1024);
		printf("allocated %s MiB\n", argv[2]);
		sleep_forever();
	}
	if (strcmp(mode, "leak") == 0 && argc > 2) {
		long kib = atol(argv[2]), step = argc > 3 ? atol(argv[3]) : 100;
		for (;;) {
			touch_kib(kib);
			msleep(step > 0 ? step : 100);
		}
	}
	if (strcmp(mode, "listen") == 0 && argc > 2) {
		if (argc > 3)
			msleep(atol(argv[3]));
		serve(atoi(argv[2]));
	}
	fputs(usage, stderr);
	return 2;
}
