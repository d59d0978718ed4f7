/*
 * hyproxd: command line, start-up, signals, pid file and the event loop.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <sodium.h>

#include "lifecycle.h"

#ifndef HYP_SYSCONFDIR
#define HYP_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG	HYP_SYSCONFDIR "/hyprox/hyproxd.yaml"

/* Exit statuses. */
#define EXIT_USAGE	2

/* What the command line asked for. */
struct options {
	const char	*config;
	const char	*conf_dir;
	int		 check;
	int		 dry_run;
	int		 print;
	int		 foreground;
	int		 log_level;
};

/* Run-time state owned by main(). */
struct runtime {
	struct hypd_core	 core;
	const struct options	*opt;
	struct event		*ev_term, *ev_int, *ev_hup, *ev_usr1, *ev_usr2;
	struct event		*ev_drain;
	int			 stopping;
	int			 pid_fd;
};

static struct runtime *rt;

/* Print usage to fp. */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: hyproxd [-fhV] [-c file] [-C dir] [-l level] [--check] "
	    "[--dry-run]\n"
	    "               [--print-effective-config]\n"
	    "  -c, --config FILE            core configuration (default %s)\n"
	    "  -C, --conf-dir DIR           plugin configuration directory\n"
	    "      --check                  validate every file and plugin "
	    "schema, then exit\n"
	    "      --dry-run                also load() every plugin, no "
	    "sockets, then exit\n"
	    "      --print-effective-config print the merged configuration, "
	    "secrets redacted\n"
	    "  -f, --foreground             do not daemonize\n"
	    "  -l, --log-level LEVEL        err, warning, notice, info or debug\n"
	    "  -V, --version                print versions and exit\n"
	    "  -h, --help                   print this help and exit\n",
	    DEFAULT_CONFIG);
}

/* Print the versions of hyproxd and what it is built on. */
static void
version(void)
{
	const ngtcp2_info	*ng = ngtcp2_version(0);

	printf("hyproxd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
	    HYP_ABI_MAJOR, HYP_ABI_MINOR);
	printf("libevent %s\n", event_get_version());
	printf("GnuTLS %s\n", gnutls_check_version(NULL));
	printf("ngtcp2 %s\n", ng != NULL ? ng->version_str : "unknown");
	printf("libcyaml %s\n", cyaml_version_str);
	printf("libsodium %s\n", sodium_version_string());
}

/* Parse the command line into o; exits on -h, -V and usage errors. */
static void
parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CHECK = 256, OPT_DRY, OPT_PRINT };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "conf-dir", required_argument, NULL, 'C' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "print-effective-config", no_argument, NULL, OPT_PRINT },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	memset(o, 0, sizeof *o);
	o->config = DEFAULT_CONFIG;
	o->log_level = -1;
	while ((ch = getopt_long(argc, argv, "c:C:fl:Vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->conf_dir = optarg;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_DRY:
			o->dry_run = 1;
			break;
		case OPT_PRINT:
			o->print = 1;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'l':
			o->log_level = hypd_log_level_parse(optarg);
			if (o->log_level < 0) {
				fprintf(stderr, "hyproxd: unknown log level "
				    "'%s' (err, warning, notice, info, debug)\n",
				    optarg);
				exit(EXIT_USAGE);
			}
			break;
		case 'V':
			version();
			exit(EXIT_SUCCESS);
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "hyproxd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		exit(EXIT_USAGE);
	}
}

/* Take the pid file lock and write our pid; 0 or -1 (logged). */
static int
pidfile_open(const char *path)
{
	char	buf[32];
	ssize_t	n;
	int	fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		hyp_log(NULL, HYP_LOG_ERR, "pid file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		hyp_log(NULL, HYP_LOG_ERR, "pid file %s: hyproxd is already "
		    "running (pid %s)", path, buf[0] != '\0' ? buf : "unknown");
		close(fd);
		return (-1);
	}
	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, n) != n) {
		hyp_log(NULL, HYP_LOG_ERR, "pid file %s: %s", path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Leave the loop once every plugin drained. */
static void
drained(void)
{
	hyp_log(NULL, HYP_LOG_INFO, "all plugins drained");
	event_base_loopbreak(rt->core.base);
}

/* The drain timeout passed. */
static void
drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	char	names[512];

	hypd_set_draining(&rt->core.plugins, names, sizeof names);
	hyp_log(NULL, HYP_LOG_WARNING, "drain timeout (%u ms) passed; still "
	    "draining: %s; stopping anyway", rt->core.conf->drain_timeout_ms,
	    names);
	event_base_loopbreak(rt->core.base);
}

/* Begin a graceful stop, or stop at once on the second signal. */
static void
begin_stop(int sig)
{
	struct timeval	tv;
	uint32_t	ms = rt->core.conf->drain_timeout_ms;

	if (rt->stopping) {
		hyp_log(NULL, HYP_LOG_WARNING, "signal %d again: stopping now",
		    sig);
		event_base_loopbreak(rt->core.base);
		return;
	}
	rt->stopping = 1;
	hyp_log(NULL, HYP_LOG_NOTICE, "signal %d: stopping (drain timeout "
	    "%u ms)", sig, ms);
	if (hypd_set_stop(&rt->core.plugins, drained)) {
		event_base_loopbreak(rt->core.base);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	rt->ev_drain = evtimer_new(rt->core.base, drain_timeout, NULL);
	if (rt->ev_drain == NULL || evtimer_add(rt->ev_drain, &tv) != 0)
		event_base_loopbreak(rt->core.base);
}

/* Signal events: stop, reload, reopen logs. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		begin_stop(sig);
		break;
	case SIGHUP:
		if (rt->stopping) {
			hyp_log(NULL, HYP_LOG_WARNING, "SIGHUP while stopping: "
			    "ignored");
			break;
		}
		(void)hypd_reload(&rt->core, rt->opt->config,
		    rt->opt->conf_dir);
		if (rt->opt->log_level >= 0)
			hypd_log_set_level(rt->opt->log_level);
		break;
	case SIGUSR1:
		hypd_log_reopen();
		hyp_log(NULL, HYP_LOG_INFO, "log reopened");
		break;
	case SIGUSR2:
		/* Plugins (the tracer's ring dump) watch it themselves. */
		hyp_log(NULL, HYP_LOG_DEBUG, "SIGUSR2");
		break;
	}
}

/* Detach from the terminal (unless -f). */
static int
daemonize(void)
{
	if (daemon(0, 0) == -1) {
		hyp_log(NULL, HYP_LOG_ERR, "daemon: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

/* Print the effective configuration of an opened set. */
static int
print_config(const struct hypd_core_conf *c, struct hypd_plugin_list *l)
{
	const cyaml_schema_value_t	*schemas[256];
	const char			*names[256];
	void				*confs[256];
	hyp_plugin_t			*p;
	size_t				 n = 0;

	TAILQ_FOREACH(p, l, entry) {
		if (n == 256)
			break;
		names[n] = p->name;
		schemas[n] = p->d.conf_schema;
		confs[n] = p->conf;
		n++;
	}
	return (hypd_config_print(stdout, c, names, schemas, confs, n));
}

/* Add one persistent signal event. */
static struct event *
add_signal(int sig)
{
	struct event	*ev;

	ev = evsignal_new(rt->core.base, sig, on_signal, NULL);
	if (ev == NULL || evsignal_add(ev, NULL) != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "cannot watch signal %d", sig);
		if (ev != NULL)
			event_free(ev);
		return (NULL);
	}
	return (ev);
}

/* Free every event main() created. */
static void
free_events(void)
{
	struct event	**evs[] = { &rt->ev_term, &rt->ev_int, &rt->ev_hup,
	    &rt->ev_usr1, &rt->ev_usr2, &rt->ev_drain };
	size_t		  i;

	for (i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		if (*evs[i] != NULL)
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
}

/* Run the daemon until stopped; returns the exit status. */
static int
serve(void)
{
	int	rc = EXIT_FAILURE;

	if (!rt->opt->foreground && daemonize() != 0)
		return (EXIT_FAILURE);
	if (rt->core.conf->pid_file != NULL &&
	    (rt->pid_fd = pidfile_open(rt->core.conf->pid_file)) == -1)
		return (EXIT_FAILURE);
	if ((rt->core.base = event_base_new()) == NULL) {
		hyp_log(NULL, HYP_LOG_ERR, "cannot create the event base");
		goto out;
	}
	hypd_event_init(rt->core.base);
	signal(SIGPIPE, SIG_IGN);
	if ((rt->ev_term = add_signal(SIGTERM)) == NULL ||
	    (rt->ev_int = add_signal(SIGINT)) == NULL ||
	    (rt->ev_hup = add_signal(SIGHUP)) == NULL ||
	    (rt->ev_usr1 = add_signal(SIGUSR1)) == NULL ||
	    (rt->ev_usr2 = add_signal(SIGUSR2)) == NULL)
		goto out;
	if (hypd_set_load(&rt->core.plugins) != 0 ||
	    hypd_set_start(&rt->core.plugins) != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "start-up failed");
		goto out;
	}
	hyp_log(NULL, HYP_LOG_NOTICE, "hyproxd %s started (pid %ld, ABI %d.%d, "
	    "libevent %s/%s)", PACKAGE_VERSION, (long)getpid(), HYP_ABI_MAJOR,
	    HYP_ABI_MINOR, event_get_version(),
	    event_base_get_method(rt->core.base));
	event_base_dispatch(rt->core.base);
	hyp_log(NULL, HYP_LOG_NOTICE, "hyproxd stopped");
	rc = EXIT_SUCCESS;
out:
	hypd_set_retire_flush();
	hypd_set_unload(&rt->core.plugins);
	free_events();
	if (rt->pid_fd != -1) {
		(void)unlink(rt->core.conf->pid_file);
		close(rt->pid_fd);
	}
	return (rc);
}

/* Entry point. */
int
main(int argc, char **argv)
{
	struct options	 opt;
	struct runtime	 runtime;
	char		*err = NULL;
	int		 rc, errors;

	parse_args(argc, argv, &opt);
	memset(&runtime, 0, sizeof runtime);
	runtime.opt = &opt;
	runtime.pid_fd = -1;
	TAILQ_INIT(&runtime.core.plugins);
	rt = &runtime;
	hypd = &runtime.core;
	if (sodium_init() < 0) {
		fprintf(stderr, "hyproxd: libsodium failed to initialise\n");
		return (EXIT_FAILURE);
	}
	if (opt.log_level >= 0)
		hypd_log_set_level(opt.log_level);

	rc = hypd_core_conf_load(opt.config, opt.conf_dir, &runtime.core.conf,
	    &err);
	if (rc != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "%s", err != NULL ? err :
		    hyp_strerror(rc));
		free(err);
		return (EXIT_FAILURE);
	}
	if (!opt.check && !opt.print && !opt.dry_run &&
	    hypd_log_configure(runtime.core.conf, &err) != 0) {
		fprintf(stderr, "hyproxd: %s\n", err != NULL ? err : "log");
		free(err);
		hypd_core_conf_free(runtime.core.conf);
		return (EXIT_FAILURE);
	}
	if (opt.log_level >= 0)
		hypd_log_set_level(opt.log_level);
	hypd_session_set_max(runtime.core.conf->max_sessions);

	errors = hypd_set_open(runtime.core.conf, &runtime.core.plugins);
	if (errors != 0) {
		hyp_log(NULL, HYP_LOG_ERR, "%d configuration error%s", errors,
		    errors == 1 ? "" : "s");
		rc = EXIT_FAILURE;
	} else if (opt.check) {
		printf("configuration ok\n");
		rc = EXIT_SUCCESS;
	} else if (opt.print) {
		rc = print_config(runtime.core.conf, &runtime.core.plugins) == 0 ?
		    EXIT_SUCCESS : EXIT_FAILURE;
	} else if (opt.dry_run) {
		rc = hypd_set_load(&runtime.core.plugins) == 0 ?
		    EXIT_SUCCESS : EXIT_FAILURE;
		if (rc == EXIT_SUCCESS)
			printf("dry run ok: every plugin loaded\n");
	} else
		rc = serve();

	hypd_set_unload(&runtime.core.plugins);
	if (runtime.core.base != NULL)
		event_base_free(runtime.core.base);
	hypd_metrics_reset();
	hypd_core_conf_free(runtime.core.conf);
	hypd_log_close();
	hypd = NULL;
	return (rc);
}
