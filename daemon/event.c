/*
 * Timers, fd watches and deferred calls on the core's libevent base.
 *
 * Every object a plugin creates is linked into that plugin's lists so that
 * hypd_event_release() can free what the plugin forgot at unload.  Objects
 * created with p == NULL belong to the core and are not tracked.
 */
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "hyproxd.h"

/* Longest timer interval accepted: about 68 years, fits a 32-bit time_t. */
#define HYPD_TIMER_MAX_MS	((uint64_t)INT32_MAX * 1000)
/* Deferred calls pending at once, all owners together. */
#define HYPD_DEFERRED_MAX	65536

struct hyp_timer {
	LIST_ENTRY(hyp_timer)	 entry;
	hyp_plugin_t		*p;
	struct event		*ev;
	hyp_timer_fn		 fn;
	void			*arg;
	int			 repeat;	/* flags ev was assigned with */
};

struct hyp_watch {
	LIST_ENTRY(hyp_watch)	 entry;
	hyp_plugin_t		*p;
	struct event		*ev;
	int			 fd;
	hyp_watch_fn		 fn;
	void			*arg;
};

struct hypd_deferred {
	LIST_ENTRY(hypd_deferred) entry;
	hyp_plugin_t		*p;
	struct event		*ev;
	hyp_timer_fn		 fn;
	void			*arg;
};

static struct event_base	*hypd_event_base_ptr;
static unsigned			 hypd_deferred_pending;

static void	hypd_timer_cb(evutil_socket_t, short, void *);
static void	hypd_watch_cb(evutil_socket_t, short, void *);
static void	hypd_deferred_cb(evutil_socket_t, short, void *);
static void	hypd_deferred_free(struct hypd_deferred *);

/* Set the base every timer and watch uses. */
void
hypd_event_init(struct event_base *base)
{
	hypd_event_base_ptr = base;
}

/* Return the core's base. */
struct event_base *
hyp_event_base(void)
{
	return (hypd_event_base_ptr);
}

/* Read the monotonic clock in microseconds. */
uint64_t
hyp_now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Run a timer's callback; libevent re-arms repeating ones before this. */
static void
hypd_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hyp_timer	*t = arg;

	/*
	 * The callback may stop, restart or free t: a repeating timer is a
	 * persistent libevent event, re-added before we are called, so a
	 * hyp_timer_stop()/hyp_timer_free() here deletes it for good and t
	 * is not touched after fn returns.
	 */
	t->fn(t->p, t->arg);
}

/* Create a stopped timer. */
hyp_timer_t *
hyp_timer_new(hyp_plugin_t *p, hyp_timer_fn fn, void *arg)
{
	struct hyp_timer	*t;

	if (fn == NULL || hypd_event_base_ptr == NULL) {
		errno = EINVAL;
		return (NULL);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->ev = event_new(hypd_event_base_ptr, -1, 0, hypd_timer_cb, t);
	if (t->ev == NULL) {
		free(t);
		errno = ENOMEM;
		return (NULL);
	}
	t->p = p;
	t->fn = fn;
	t->arg = arg;
	if (p != NULL)
		LIST_INSERT_HEAD(&p->timers, t, entry);
	return (t);
}

/* Arm or re-arm a timer. */
int
hyp_timer_start(hyp_timer_t *t, uint64_t ms, int repeat)
{
	struct timeval	tv;

	if (t == NULL)
		return (HYP_EINVAL);
	repeat = (repeat != 0);
	if (ms > HYPD_TIMER_MAX_MS)
		return (HYP_ERANGE);
	if (repeat && ms == 0)
		return (HYP_EINVAL);	/* would spin the loop */

	event_del(t->ev);
	if (repeat != t->repeat) {
		if (event_assign(t->ev, hypd_event_base_ptr, -1,
		    repeat ? EV_PERSIST : 0, hypd_timer_cb, t) != 0)
			return (HYP_EINVAL);
		t->repeat = repeat;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	if (event_add(t->ev, &tv) != 0)
		return (HYP_ENOMEM);
	return (0);
}

/* Disarm a timer. */
void
hyp_timer_stop(hyp_timer_t *t)
{
	if (t != NULL)
		event_del(t->ev);
}

/* Disarm and free a timer, even from inside its own callback. */
void
hyp_timer_free(hyp_timer_t *t)
{
	if (t == NULL)
		return;
	if (t->p != NULL)
		LIST_REMOVE(t, entry);
	event_free(t->ev);
	free(t);
}

/* Run a watch's callback with the ready bits translated. */
static void
hypd_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hyp_watch	*w = arg;
	int			 ready = 0;

	if (what & EV_READ)
		ready |= HYP_WATCH_READ;
	if (what & EV_WRITE)
		ready |= HYP_WATCH_WRITE;
	w->fn(w->p, w->fd, ready, w->arg);
}

/* Watch fd persistently. */
hyp_watch_t *
hyp_watch_new(hyp_plugin_t *p, int fd, int what, hyp_watch_fn fn, void *arg)
{
	struct hyp_watch	*w;
	short			 flags = EV_PERSIST;

	if (fn == NULL || fd < 0 || hypd_event_base_ptr == NULL ||
	    (what & (HYP_WATCH_READ | HYP_WATCH_WRITE)) == 0 ||
	    (what & ~(HYP_WATCH_READ | HYP_WATCH_WRITE)) != 0) {
		errno = EINVAL;
		return (NULL);
	}
	if (what & HYP_WATCH_READ)
		flags |= EV_READ;
	if (what & HYP_WATCH_WRITE)
		flags |= EV_WRITE;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return (NULL);
	w->ev = event_new(hypd_event_base_ptr, fd, flags, hypd_watch_cb, w);
	if (w->ev == NULL || event_add(w->ev, NULL) != 0) {
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
		errno = ENOMEM;
		return (NULL);
	}
	w->p = p;
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	if (p != NULL)
		LIST_INSERT_HEAD(&p->watches, w, entry);
	return (w);
}

/* Stop watching and free, even from inside the watch's callback. */
void
hyp_watch_free(hyp_watch_t *w)
{
	if (w == NULL)
		return;
	if (w->p != NULL)
		LIST_REMOVE(w, entry);
	event_free(w->ev);
	free(w);
}

/* Unlink and free a deferred call without running it. */
static void
hypd_deferred_free(struct hypd_deferred *d)
{
	if (d->p != NULL)
		LIST_REMOVE(d, entry);
	event_free(d->ev);
	free(d);
	hypd_deferred_pending--;
}

/* Run a deferred call once, after freeing its record. */
static void
hypd_deferred_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hypd_deferred	*d = arg;
	hyp_plugin_t		*p = d->p;
	hyp_timer_fn		 fn = d->fn;
	void			*fnarg = d->arg;

	hypd_deferred_free(d);
	fn(p, fnarg);
}

/* Queue fn(p, arg) to run from the loop after the current callback. */
int
hyp_defer(hyp_plugin_t *p, hyp_timer_fn fn, void *arg)
{
	struct hypd_deferred	*d;

	if (fn == NULL || hypd_event_base_ptr == NULL)
		return (HYP_EINVAL);
	if (hypd_deferred_pending >= HYPD_DEFERRED_MAX)
		return (HYP_ENOSPC);
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (HYP_ENOMEM);
	d->ev = event_new(hypd_event_base_ptr, -1, 0, hypd_deferred_cb, d);
	if (d->ev == NULL) {
		free(d);
		return (HYP_ENOMEM);
	}
	d->p = p;
	d->fn = fn;
	d->arg = arg;
	if (p != NULL)
		LIST_INSERT_HEAD(&p->deferred, d, entry);
	hypd_deferred_pending++;
	/* Active events run in this loop pass, after the running callback. */
	event_active(d->ev, EV_TIMEOUT, 0);
	return (0);
}

/* Free every timer, watch and deferred call p still owns. */
void
hypd_event_release(hyp_plugin_t *p)
{
	unsigned	n;

	if (p == NULL)
		return;
	for (n = 0; !LIST_EMPTY(&p->timers); n++)
		hyp_timer_free(LIST_FIRST(&p->timers));
	if (n != 0)
		hyp_log(p, HYP_LOG_WARNING, "%u timers left at unload", n);
	for (n = 0; !LIST_EMPTY(&p->watches); n++)
		hyp_watch_free(LIST_FIRST(&p->watches));
	if (n != 0)
		hyp_log(p, HYP_LOG_WARNING, "%u watches left at unload", n);
	for (n = 0; !LIST_EMPTY(&p->deferred); n++)
		hypd_deferred_free(LIST_FIRST(&p->deferred));
	if (n != 0)
		hyp_log(p, HYP_LOG_DEBUG, "%u deferred calls dropped at unload",
		    n);
}
