/*
 * process.c: hyprox_build_info and the standard process_* metrics of the
 * Prometheus client libraries (CPU, memory, file descriptors, start time).
 * They are refreshed by a pre-render callback, so every scrape reads the
 * process as it is; nothing runs between scrapes.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/time.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mx.h"

/* The process metrics' series and what only needs reading once. */
struct mx_process {
	hyp_plugin_t	*p;
	hyp_series_t	*cpu;		/* counter */
	hyp_series_t	*rss;
	hyp_series_t	*vsz;
	hyp_series_t	*fds;
	hyp_series_t	*max_fds;
	hyp_series_t	*start;
	double		 start_time;	/* seconds since the epoch */
};

/* The label-less series of a new metric, or NULL (logged). */
static hyp_series_t *
plain(hyp_plugin_t *p, enum hyp_metric_type type, const char *name,
    const char *help)
{
	hyp_metric_t	*m;
	int		 err = 0;

	if ((m = hyp_metric_new(p, type, name, help, NULL, 0, NULL, 0,
	    &err)) == NULL) {
		hyp_log(p, HYP_LOG_WARNING, "metric %s: %s", name,
		    hyp_strerror(err));
		return (NULL);
	}
	return (hyp_metric_series(m, NULL));
}

/* Seconds since the epoch at which this process started (/proc), or now. */
static double
read_start_time(void)
{
	unsigned long long	 start_ticks = 0, btime = 0;
	char			 buf[1024], *rp;
	FILE			*fp;
	long			 hz;
	size_t			 n;
	int			 field;

	hz = sysconf(_SC_CLK_TCK);
	if ((fp = fopen("/proc/self/stat", "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		/* After ")": the space before field 3; starttime is field 22. */
		if ((rp = strrchr(buf, ')')) != NULL) {
			rp++;
			for (field = 3; field < 22 && rp != NULL; field++)
				rp = strchr(rp + 1, ' ');
			if (rp != NULL)
				start_ticks = strtoull(rp + 1, NULL, 10);
		}
	}
	if ((fp = fopen("/proc/stat", "r")) != NULL) {
		while (fgets(buf, sizeof(buf), fp) != NULL) {
			if (strncmp(buf, "btime ", 6) == 0) {
				btime = strtoull(buf + 6, NULL, 10);
				break;
			}
		}
		fclose(fp);
	}
	if (btime == 0 || start_ticks == 0 || hz <= 0)
		return ((double)time(NULL));
	return ((double)btime + (double)start_ticks / (double)hz);
}

/* Count the open file descriptors (entries of /proc/self/fd but its own). */
static double
count_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	double		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return (n > 0 ? n - 1 : 0);
}

/* Pre-render callback: read CPU, memory and descriptors. */
static void
process_render(void *arg)
{
	struct mx_process	*pm = arg;
	struct rusage		 ru;
	struct rlimit		 rl;
	unsigned long long	 vsz_pages = 0, rss_pages = 0;
	double			 cpu, page = (double)sysconf(_SC_PAGESIZE);
	FILE			*fp;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec +
		    (double)ru.ru_stime.tv_usec) / 1e6;
		/* A counter only grows: add what was used since last time. */
		if (pm->cpu != NULL && cpu > hyp_series_value(pm->cpu))
			hyp_series_add(pm->cpu, cpu - hyp_series_value(pm->cpu));
	}
	if ((fp = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(fp, "%llu %llu", &vsz_pages, &rss_pages) != 2)
			vsz_pages = rss_pages = 0;
		fclose(fp);
	}
	hyp_series_set(pm->vsz, (double)vsz_pages * page);
	hyp_series_set(pm->rss, (double)rss_pages * page);
	hyp_series_set(pm->fds, count_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		hyp_series_set(pm->max_fds, rl.rlim_cur == RLIM_INFINITY ?
		    -1 : (double)rl.rlim_cur);
	hyp_series_set(pm->start, pm->start_time);
}

/* Register hyprox_build_info and, when asked, the process metrics. */
struct mx_process *
mx_process_new(hyp_plugin_t *p, int process_metrics)
{
	static const char *const bi_labels[] = { "version", "abi", NULL };
	struct mx_process	*pm;
	hyp_metric_t		*m;
	const char		*v[2];
	char			 abi[16];
	int			 err = 0, rc;

	if ((pm = calloc(1, sizeof(*pm))) == NULL)
		return (NULL);
	pm->p = p;
	pm->start_time = read_start_time();
	snprintf(abi, sizeof(abi), "%d.%d", HYP_ABI_MAJOR, HYP_ABI_MINOR);
	m = hyp_metric_new(p, HYP_METRIC_GAUGE, "hyprox_build_info",
	    "Always 1; the labels tell the hyprox version and plugin ABI.",
	    bi_labels, 4, NULL, 0, &err);
	v[0] = PACKAGE_VERSION;
	v[1] = abi;
	if (m != NULL)
		hyp_series_set(hyp_metric_series(m, v), 1);
	else
		hyp_log(p, HYP_LOG_WARNING, "metric hyprox_build_info: %s",
		    hyp_strerror(err));
	if (!process_metrics)
		return (pm);
	pm->cpu = plain(p, HYP_METRIC_COUNTER, "process_cpu_seconds_total",
	    "Total user and system CPU time spent in seconds.");
	pm->rss = plain(p, HYP_METRIC_GAUGE, "process_resident_memory_bytes",
	    "Resident memory size in bytes.");
	pm->vsz = plain(p, HYP_METRIC_GAUGE, "process_virtual_memory_bytes",
	    "Virtual memory size in bytes.");
	pm->fds = plain(p, HYP_METRIC_GAUGE, "process_open_fds",
	    "Number of open file descriptors.");
	pm->max_fds = plain(p, HYP_METRIC_GAUGE, "process_max_fds",
	    "Maximum number of open file descriptors (-1: unlimited).");
	pm->start = plain(p, HYP_METRIC_GAUGE, "process_start_time_seconds",
	    "Start time of the process since the Unix epoch in seconds.");
	if ((rc = hyp_metrics_on_render(p, process_render, pm)) != 0)
		hyp_log(p, HYP_LOG_WARNING, "process metrics: %s",
		    hyp_strerror(rc));
	process_render(pm);
	return (pm);
}

/* Free what mx_process_new() allocated (the metrics live on). */
void
mx_process_free(struct mx_process *pm)
{
	free(pm);
}

/* When the process started, seconds since the epoch. */
double
mx_process_start_time(const struct mx_process *pm)
{
	return (pm != NULL ? pm->start_time : 0);
}
