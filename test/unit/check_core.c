/*
 * Unit tests of the daemon's core objects: timers, watches and deferred
 * calls on a real libevent base (daemon/event.c), hooks (daemon/hook.c),
 * services (daemon/service.c), sessions and backends (daemon/session.c).
 * Fake plugins are zeroed struct hyp_plugin with a name; log lines are
 * captured by pointing fd 2 at a temporary file.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "hyproxd.h"

/* ---- helpers ---- */

static struct event_base	*base;
static int			 saved_stderr = -1;
static FILE			*capture_fp;

/* Make a fake plugin named name. */
static struct hyp_plugin *
fake_plugin(const char *name)
{
	struct hyp_plugin	*p;

	p = calloc(1, sizeof(*p));
	ck_assert_ptr_nonnull(p);
	p->name = strdup(name);
	ck_assert_ptr_nonnull(p->name);
	LIST_INIT(&p->timers);
	LIST_INIT(&p->watches);
	LIST_INIT(&p->deferred);
	return (p);
}

/* Free a fake plugin. */
static void
fake_plugin_free(struct hyp_plugin *p)
{
	free(p->name);
	free(p);
}

/* Start capturing what is written to fd 2. */
static void
capture_start(void)
{
	fflush(stderr);
	capture_fp = tmpfile();
	ck_assert_ptr_nonnull(capture_fp);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_ge(dup2(fileno(capture_fp), STDERR_FILENO), 0);
}

/* Stop capturing and return what was written (static buffer). */
static const char *
capture_end(void)
{
	static char	buf[8192];
	size_t		n;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	rewind(capture_fp);
	n = fread(buf, 1, sizeof(buf) - 1, capture_fp);
	buf[n] = '\0';
	fclose(capture_fp);
	capture_fp = NULL;
	return (buf);
}

/* Create the base for the event tests. */
static void
event_setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	hypd_event_init(base);
}

/* Free the base. */
static void
event_teardown(void)
{
	hypd_event_init(NULL);
	event_base_free(base);
	base = NULL;
}

/* Run the loop for at most ms milliseconds (or until loopbreak). */
static void
run_loop(unsigned ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* ---- event.c ---- */

struct tctx {
	int		 fired;
	int		 stop_at;	/* loopbreak when fired reaches it */
	int		 free_at;	/* free the timer when fired reaches it */
	hyp_timer_t	*t;
	hyp_plugin_t	*p_seen;
};

/* Count a timer firing. */
static void
timer_count_cb(hyp_plugin_t *p, void *arg)
{
	struct tctx	*c = arg;

	c->fired++;
	c->p_seen = p;
	if (c->free_at != 0 && c->fired == c->free_at) {
		hyp_timer_free(c->t);
		c->t = NULL;
	}
	if (c->stop_at != 0 && c->fired == c->stop_at)
		event_base_loopbreak(base);
}

START_TEST(test_clock_and_base)
{
	uint64_t	a, b;

	ck_assert_ptr_eq(hyp_event_base(), base);
	a = hyp_now_us();
	usleep(2000);
	b = hyp_now_us();
	ck_assert_uint_gt(a, 0);
	ck_assert_uint_ge(b - a, 2000);
}
END_TEST

START_TEST(test_timer_oneshot)
{
	struct hyp_plugin	*p = fake_plugin("t");
	struct tctx		 c = { 0 };

	c.t = hyp_timer_new(p, timer_count_cb, &c);
	ck_assert_ptr_nonnull(c.t);
	ck_assert_ptr_eq(LIST_FIRST(&p->timers), c.t);
	c.stop_at = 1;
	ck_assert_int_eq(hyp_timer_start(c.t, 10, 0), 0);
	run_loop(5000);
	ck_assert_int_eq(c.fired, 1);
	ck_assert_ptr_eq(c.p_seen, p);
	/* Once only. */
	run_loop(50);
	ck_assert_int_eq(c.fired, 1);
	hyp_timer_free(c.t);
	ck_assert(LIST_EMPTY(&p->timers));
	hyp_timer_free(NULL);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_timer_repeat)
{
	struct hyp_plugin	*p = fake_plugin("t");
	struct tctx		 c = { 0 };
	uint64_t		 t0;

	c.stop_at = 5;
	c.t = hyp_timer_new(p, timer_count_cb, &c);
	ck_assert_ptr_nonnull(c.t);
	t0 = hyp_now_us();
	ck_assert_int_eq(hyp_timer_start(c.t, 10, 1), 0);
	run_loop(3000);
	ck_assert_int_eq(c.fired, 5);
	ck_assert_uint_ge(hyp_now_us() - t0, 45000);
	/* Still armed: keeps firing until stopped. */
	c.stop_at = 7;
	run_loop(3000);
	ck_assert_int_eq(c.fired, 7);
	hyp_timer_stop(c.t);
	run_loop(50);
	ck_assert_int_eq(c.fired, 7);
	hyp_timer_free(c.t);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_timer_stop_restart)
{
	struct hyp_plugin	*p = fake_plugin("t");
	struct tctx		 c = { 0 };

	c.t = hyp_timer_new(p, timer_count_cb, &c);
	ck_assert_int_eq(hyp_timer_start(c.t, 10, 0), 0);
	hyp_timer_stop(c.t);
	run_loop(50);
	ck_assert_int_eq(c.fired, 0);

	/* Restart after stop. */
	c.stop_at = 1;
	ck_assert_int_eq(hyp_timer_start(c.t, 10, 0), 0);
	run_loop(5000);
	ck_assert_int_eq(c.fired, 1);

	/* Re-arming a pending timer replaces its deadline. */
	c.stop_at = 2;
	ck_assert_int_eq(hyp_timer_start(c.t, 60000, 0), 0);
	ck_assert_int_eq(hyp_timer_start(c.t, 10, 0), 0);
	run_loop(5000);
	ck_assert_int_eq(c.fired, 2);

	/* One-shot to repeating and back. */
	c.stop_at = 5;
	ck_assert_int_eq(hyp_timer_start(c.t, 5, 1), 0);
	run_loop(3000);
	ck_assert_int_eq(c.fired, 5);
	c.stop_at = 6;
	ck_assert_int_eq(hyp_timer_start(c.t, 5, 0), 0);
	run_loop(5000);
	ck_assert_int_eq(c.fired, 6);
	run_loop(50);
	ck_assert_int_eq(c.fired, 6);

	/* Stopping twice and stopping NULL are harmless. */
	hyp_timer_stop(c.t);
	hyp_timer_stop(c.t);
	hyp_timer_stop(NULL);
	hyp_timer_free(c.t);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_timer_free_self)
{
	struct hyp_plugin	*p = fake_plugin("t");
	struct tctx		 c = { 0 }, d = { 0 };

	/* A repeating timer freed in its third callback never fires again. */
	c.free_at = 3;
	c.stop_at = 3;
	c.t = hyp_timer_new(p, timer_count_cb, &c);
	ck_assert_int_eq(hyp_timer_start(c.t, 5, 1), 0);
	/* A one-shot timer freed in its callback. */
	d.free_at = 1;
	d.t = hyp_timer_new(p, timer_count_cb, &d);
	ck_assert_int_eq(hyp_timer_start(d.t, 5, 0), 0);
	run_loop(5000);
	ck_assert_int_eq(c.fired, 3);
	ck_assert_int_eq(d.fired, 1);
	run_loop(50);
	ck_assert_int_eq(c.fired, 3);
	ck_assert_ptr_null(c.t);
	ck_assert(LIST_EMPTY(&p->timers));
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_timer_core_owned)
{
	struct tctx	c = { 0 };

	c.stop_at = 1;
	c.t = hyp_timer_new(NULL, timer_count_cb, &c);
	ck_assert_ptr_nonnull(c.t);
	ck_assert_int_eq(hyp_timer_start(c.t, 1, 0), 0);
	run_loop(5000);
	ck_assert_int_eq(c.fired, 1);
	ck_assert_ptr_null(c.p_seen);
	hyp_timer_free(c.t);
}
END_TEST

START_TEST(test_timer_bad)
{
	struct hyp_plugin	*p = fake_plugin("t");
	struct tctx		 c = { 0 };
	hyp_timer_t		*t;

	ck_assert_ptr_null(hyp_timer_new(p, NULL, NULL));
	ck_assert_int_eq(hyp_timer_start(NULL, 10, 0), HYP_EINVAL);
	t = hyp_timer_new(p, timer_count_cb, &c);
	ck_assert_int_eq(hyp_timer_start(t, 0, 1), HYP_EINVAL);
	ck_assert_int_eq(hyp_timer_start(t, UINT64_MAX, 0), HYP_ERANGE);
	ck_assert_int_eq(hyp_timer_start(t, 0, 0), 0);	/* next pass */
	run_loop(30);
	ck_assert_int_eq(c.fired, 1);
	hyp_timer_free(t);
	ck_assert(LIST_EMPTY(&p->timers));

	/* Without a base nothing can be created. */
	hypd_event_init(NULL);
	ck_assert_ptr_null(hyp_timer_new(p, timer_count_cb, &c));
	ck_assert_ptr_null(hyp_watch_new(p, 0, HYP_WATCH_READ,
	    (hyp_watch_fn)NULL, NULL));
	ck_assert_int_eq(hyp_defer(p, timer_count_cb, &c), HYP_EINVAL);
	hypd_event_init(base);
	fake_plugin_free(p);
}
END_TEST

struct wctx {
	int	fired;
	int	what;
	int	fd;
	char	byte;
};

/* Read one byte from a readable pipe and stop the loop. */
static void
watch_read_cb(hyp_plugin_t *p, int fd, int what, void *arg)
{
	struct wctx	*c = arg;

	c->fired++;
	c->what = what;
	c->fd = fd;
	ck_assert_int_eq(read(fd, &c->byte, 1), 1);
	event_base_loopbreak(base);
}

START_TEST(test_watch_pipe)
{
	struct hyp_plugin	*p = fake_plugin("w");
	struct wctx		 c = { 0 };
	hyp_watch_t		*w;
	int			 fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	w = hyp_watch_new(p, fds[0], HYP_WATCH_READ, watch_read_cb, &c);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_eq(LIST_FIRST(&p->watches), w);

	/* Nothing to read: no callback. */
	run_loop(30);
	ck_assert_int_eq(c.fired, 0);

	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	run_loop(2000);
	ck_assert_int_eq(c.fired, 1);
	ck_assert_int_eq(c.what, HYP_WATCH_READ);
	ck_assert_int_eq(c.fd, fds[0]);
	ck_assert_int_eq(c.byte, 'x');

	/* Persistent: a second byte fires again. */
	ck_assert_int_eq(write(fds[1], "y", 1), 1);
	run_loop(2000);
	ck_assert_int_eq(c.fired, 2);
	ck_assert_int_eq(c.byte, 'y');

	/* After free, a byte no longer fires the callback. */
	hyp_watch_free(w);
	ck_assert(LIST_EMPTY(&p->watches));
	ck_assert_int_eq(write(fds[1], "z", 1), 1);
	run_loop(30);
	ck_assert_int_eq(c.fired, 2);

	/* Bad arguments. */
	ck_assert_ptr_null(hyp_watch_new(p, -1, HYP_WATCH_READ,
	    watch_read_cb, &c));
	ck_assert_ptr_null(hyp_watch_new(p, fds[0], 0, watch_read_cb, &c));
	ck_assert_ptr_null(hyp_watch_new(p, fds[0], 0x100, watch_read_cb, &c));
	ck_assert_ptr_null(hyp_watch_new(p, fds[0], HYP_WATCH_READ, NULL, &c));
	ck_assert(LIST_EMPTY(&p->watches));
	hyp_watch_free(NULL);
	close(fds[0]);
	close(fds[1]);
	fake_plugin_free(p);
}
END_TEST

/* Note that a write watch fired and stop. */
static void
watch_write_cb(hyp_plugin_t *p, int fd, int what, void *arg)
{
	struct wctx	*c = arg;

	c->fired++;
	c->what = what;
	event_base_loopbreak(base);
}

START_TEST(test_watch_write)
{
	struct hyp_plugin	*p = fake_plugin("w");
	struct wctx		 c = { 0 };
	hyp_watch_t		*w;
	int			 fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	w = hyp_watch_new(p, fds[1], HYP_WATCH_WRITE, watch_write_cb, &c);
	ck_assert_ptr_nonnull(w);
	run_loop(2000);
	ck_assert_int_eq(c.fired, 1);
	ck_assert_int_eq(c.what, HYP_WATCH_WRITE);
	hyp_watch_free(w);
	close(fds[0]);
	close(fds[1]);
	fake_plugin_free(p);
}
END_TEST

static char	 order[32];
static size_t	 norder;

/* Append a character to the order log. */
static void
order_add(char ch)
{
	if (norder < sizeof(order) - 1)
		order[norder++] = ch;
}

/* A deferred call: log 'D'. */
static void
defer_cb(hyp_plugin_t *p, void *arg)
{
	int	*n = arg;

	(*n)++;
	order_add('D');
	event_base_loopbreak(base);
}

/* A timer that defers a call, then logs 'T' before returning. */
static void
timer_defer_cb(hyp_plugin_t *p, void *arg)
{
	ck_assert_int_eq(hyp_defer(p, defer_cb, arg), 0);
	order_add('T');
}

/* Must never run. */
static void
never_cb(hyp_plugin_t *p, void *arg)
{
	ck_abort_msg("callback of a released object ran");
}

START_TEST(test_defer)
{
	struct hyp_plugin	*p = fake_plugin("d");
	hyp_timer_t		*t;
	int			 n = 0, i, rc = 0;

	t = hyp_timer_new(p, timer_defer_cb, &n);
	ck_assert_int_eq(hyp_timer_start(t, 5, 0), 0);
	run_loop(5000);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(order, "TD");
	ck_assert(LIST_EMPTY(&p->deferred));

	/* Deferred from outside the loop: runs once the loop runs. */
	ck_assert_int_eq(hyp_defer(p, defer_cb, &n), 0);
	ck_assert(!LIST_EMPTY(&p->deferred));
	ck_assert_int_eq(n, 1);
	run_loop(20);
	ck_assert_int_eq(n, 2);
	run_loop(20);
	ck_assert_int_eq(n, 2);
	ck_assert(LIST_EMPTY(&p->deferred));

	/* Core-owned deferred calls run too. */
	ck_assert_int_eq(hyp_defer(NULL, defer_cb, &n), 0);
	run_loop(20);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(hyp_defer(p, NULL, &n), HYP_EINVAL);
	hyp_timer_free(t);

	/* The pending queue is bounded; releasing the plugin empties it. */
	for (i = 0; i < 70000; i++) {
		if ((rc = hyp_defer(p, never_cb, NULL)) != 0)
			break;
	}
	ck_assert_int_eq(rc, HYP_ENOSPC);
	ck_assert_int_eq(i, 65536);
	hypd_event_release(p);
	ck_assert(LIST_EMPTY(&p->deferred));
	ck_assert_int_eq(hyp_defer(p, defer_cb, &n), 0);
	run_loop(20);
	ck_assert_int_eq(n, 4);
	fake_plugin_free(p);
}
END_TEST

/* Must never run. */
static void
never_watch_cb(hyp_plugin_t *p, int fd, int what, void *arg)
{
	ck_abort_msg("watch of a released plugin ran");
}

START_TEST(test_event_release)
{
	struct hyp_plugin	*p = fake_plugin("leaky"), *q = fake_plugin("ok");
	struct tctx		 c = { 0 };
	hyp_timer_t		*t1, *t2, *tq;
	const char		*log;
	int			 fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	t1 = hyp_timer_new(p, never_cb, NULL);
	t2 = hyp_timer_new(p, never_cb, NULL);
	ck_assert_int_eq(hyp_timer_start(t1, 1, 0), 0);
	ck_assert_int_eq(hyp_timer_start(t2, 1, 1), 0);
	ck_assert_ptr_nonnull(hyp_watch_new(p, fds[1], HYP_WATCH_WRITE,
	    never_watch_cb, NULL));
	ck_assert_int_eq(hyp_defer(p, never_cb, NULL), 0);
	ck_assert_int_eq(hyp_defer(p, never_cb, NULL), 0);
	/* Another plugin's timer survives. */
	c.stop_at = 1;
	tq = hyp_timer_new(q, timer_count_cb, &c);
	ck_assert_int_eq(hyp_timer_start(tq, 1, 0), 0);

	capture_start();
	hypd_event_release(p);
	log = capture_end();
	ck_assert(LIST_EMPTY(&p->timers));
	ck_assert(LIST_EMPTY(&p->watches));
	ck_assert(LIST_EMPTY(&p->deferred));
	ck_assert_ptr_nonnull(strstr(log, "2 timers left at unload"));
	ck_assert_ptr_nonnull(strstr(log, "1 watches left at unload"));
	ck_assert_ptr_nonnull(strstr(log, "leaky"));

	run_loop(5000);
	ck_assert_int_eq(c.fired, 1);
	run_loop(30);

	/* Nothing left: no warning. */
	capture_start();
	hypd_event_release(p);
	hypd_event_release(NULL);
	log = capture_end();
	ck_assert_ptr_null(strstr(log, "left at unload"));

	hyp_timer_free(tq);
	close(fds[0]);
	close(fds[1]);
	fake_plugin_free(p);
	fake_plugin_free(q);
}
END_TEST

/* ---- hook.c ---- */

struct hctx {
	char			 tag;
	int			 rc;
	int			 calls;
	/* Optional actions during the call. */
	hyp_plugin_t		*unreg_p;
	enum hyp_hook_point	 unreg_point;
	struct hctx		*unreg_ud;
	struct hctx		*unreg_ud2;
	struct hctx		*reg_ud;
	hyp_plugin_t		*release_p;
};

/* A handler: log the tag, do the configured action, return rc. */
static enum hyp_hook_rc
hook_cb(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct hctx	*h = ud;

	h->calls++;
	order_add(h->tag);
	if (h->unreg_ud != NULL)
		ck_assert_int_eq(hyp_hook_unregister(h->unreg_p,
		    h->unreg_point, hook_cb, h->unreg_ud), 0);
	if (h->unreg_ud2 != NULL)
		ck_assert_int_eq(hyp_hook_unregister(h->unreg_p,
		    h->unreg_point, hook_cb, h->unreg_ud2), 0);
	if (h->reg_ud != NULL)
		ck_assert_int_eq(hyp_hook_register(p, h->unreg_point, 1000,
		    hook_cb, h->reg_ud), 0);
	if (h->release_p != NULL)
		hypd_hook_release(h->release_p);
	return ((enum hyp_hook_rc)h->rc);
}

/* Reset the order log. */
static void
order_reset(void)
{
	memset(order, 0, sizeof(order));
	norder = 0;
}

START_TEST(test_hook_order)
{
	struct hyp_plugin	*p = fake_plugin("h");
	struct hctx		 a = { .tag = 'A' }, b = { .tag = 'B' }, c = { .tag = 'C' },
				 d = { .tag = 'D' }, e = { .tag = 'E' };

	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_ROUTE, NULL, NULL),
	    HYP_CONTINUE);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_ROUTE, 10, hook_cb, &a),
	    0);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_ROUTE, 0, hook_cb, &b),
	    0);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_ROUTE, 10, hook_cb, &c),
	    0);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_ROUTE, -5, hook_cb, &d),
	    0);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_ROUTE, 10, hook_cb, &e),
	    0);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_ROUTE), 5);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_ACCEPT), 0);
	order_reset();
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_ROUTE, NULL, NULL),
	    HYP_CONTINUE);
	ck_assert_str_eq(order, "DBACE");
	/* Other points are independent. */
	order_reset();
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_ACCEPT, NULL, NULL),
	    HYP_CONTINUE);
	ck_assert_str_eq(order, "");
	/* Unregister the middle one of a tie. */
	ck_assert_int_eq(hyp_hook_unregister(p, HYP_HOOK_ROUTE, hook_cb, &c),
	    0);
	ck_assert_int_eq(hyp_hook_unregister(p, HYP_HOOK_ROUTE, hook_cb, &c),
	    HYP_ENOENT);
	order_reset();
	hyp_hook_run(HYP_HOOK_ROUTE, NULL, NULL);
	ck_assert_str_eq(order, "DBAE");
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_hook_codes)
{
	struct hyp_plugin	*p = fake_plugin("h");
	struct hctx		 a = { .tag = 'A' }, b = { .tag = 'B' }, c = { .tag = 'C' };
	int			 codes[] = { HYP_DONE, HYP_DENY, HYP_ERROR };
	size_t			 i;

	hyp_hook_register(p, HYP_HOOK_CONNECT_DECODED, 1, hook_cb, &a);
	hyp_hook_register(p, HYP_HOOK_CONNECT_DECODED, 2, hook_cb, &b);
	hyp_hook_register(p, HYP_HOOK_CONNECT_DECODED, 3, hook_cb, &c);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		order_reset();
		b.rc = codes[i];
		ck_assert_int_eq(hyp_hook_run(HYP_HOOK_CONNECT_DECODED, NULL,
		    NULL), codes[i]);
		ck_assert_str_eq(order, "AB");
	}
	order_reset();
	b.rc = HYP_CONTINUE;
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_CONNECT_DECODED, NULL, NULL),
	    HYP_CONTINUE);
	ck_assert_str_eq(order, "ABC");
	/* The last handler's code is the chain's. */
	c.rc = HYP_DONE;
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_CONNECT_DECODED, NULL, NULL),
	    HYP_DONE);
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_hook_unknown_code)
{
	struct hyp_plugin	*p = fake_plugin("weird-plugin");
	struct hctx		 a = { .tag = 'A' }, b = { .tag = 'B' };
	const char		*log;

	a.rc = 42;
	hyp_hook_register(p, HYP_HOOK_PACKET, 0, hook_cb, &a);
	hyp_hook_register(p, HYP_HOOK_PACKET, 1, hook_cb, &b);
	order_reset();
	capture_start();
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_PACKET, NULL, NULL), HYP_ERROR);
	log = capture_end();
	ck_assert_str_eq(order, "A");
	ck_assert_ptr_nonnull(strstr(log, "weird-plugin"));
	ck_assert_ptr_nonnull(strstr(log, "unknown code 42"));
	ck_assert_ptr_nonnull(strstr(log, "packet"));

	a.rc = -1;
	capture_start();
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_PACKET, NULL, NULL), HYP_ERROR);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "unknown code -1"));
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_hook_unregister_during_run)
{
	struct hyp_plugin	*p = fake_plugin("h");
	struct hctx		 a = { .tag = 'A' }, b = { .tag = 'B' }, c = { .tag = 'C' },
				 n = { .tag = 'N' };

	/* A removes itself, B removes C (later in the chain). */
	a.unreg_p = p;
	a.unreg_point = HYP_HOOK_HANDSHAKE;
	a.unreg_ud = &a;
	b.unreg_p = p;
	b.unreg_point = HYP_HOOK_HANDSHAKE;
	b.unreg_ud = &c;
	hyp_hook_register(p, HYP_HOOK_HANDSHAKE, 0, hook_cb, &a);
	hyp_hook_register(p, HYP_HOOK_HANDSHAKE, 1, hook_cb, &b);
	hyp_hook_register(p, HYP_HOOK_HANDSHAKE, 2, hook_cb, &c);
	order_reset();
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK_HANDSHAKE, NULL, NULL),
	    HYP_CONTINUE);
	ck_assert_str_eq(order, "AB");
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_HANDSHAKE), 1);
	b.unreg_ud = NULL;

	/* A handler registering another: the new one runs from the next run. */
	b.unreg_point = HYP_HOOK_HANDSHAKE;
	b.reg_ud = &n;
	order_reset();
	hyp_hook_run(HYP_HOOK_HANDSHAKE, NULL, NULL);
	ck_assert_str_eq(order, "B");
	b.reg_ud = NULL;
	order_reset();
	hyp_hook_run(HYP_HOOK_HANDSHAKE, NULL, NULL);
	ck_assert_str_eq(order, "BN");
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_HANDSHAKE), 2);
	hypd_hook_release(p);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_HANDSHAKE), 0);

	/* B removes A (before it) and itself: C and D still run, once. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&n, 0, sizeof(n));
	a.tag = 'A';
	b.tag = 'B';
	c.tag = 'C';
	n.tag = 'D';
	b.unreg_p = p;
	b.unreg_point = HYP_HOOK_HANDSHAKE;
	b.unreg_ud = &a;
	b.unreg_ud2 = &b;
	hyp_hook_register(p, HYP_HOOK_HANDSHAKE, 0, hook_cb, &a);
	hyp_hook_register(p, HYP_HOOK_HANDSHAKE, 1, hook_cb, &b);
	hyp_hook_register(p, HYP_HOOK_HANDSHAKE, 1, hook_cb, &c);
	hyp_hook_register(p, HYP_HOOK_HANDSHAKE, 2, hook_cb, &n);
	order_reset();
	hyp_hook_run(HYP_HOOK_HANDSHAKE, NULL, NULL);
	ck_assert_str_eq(order, "ABCD");
	order_reset();
	hyp_hook_run(HYP_HOOK_HANDSHAKE, NULL, NULL);
	ck_assert_str_eq(order, "CD");
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_hook_register_before_current)
{
	struct hyp_plugin	*p = fake_plugin("h");
	struct hctx		 a = { .tag = 'A' }, b = { .tag = 'B' }, c = { .tag = 'C' },
				 n = { .tag = 'N' };

	/* B registers N at a priority before itself: the chain goes on to C. */
	b.unreg_point = HYP_HOOK_ACCEPT;
	b.reg_ud = &n;
	hyp_hook_register(p, HYP_HOOK_ACCEPT, 0, hook_cb, &a);
	hyp_hook_register(p, HYP_HOOK_ACCEPT, 2000, hook_cb, &b);
	hyp_hook_register(p, HYP_HOOK_ACCEPT, 3000, hook_cb, &c);
	order_reset();
	hyp_hook_run(HYP_HOOK_ACCEPT, NULL, NULL);
	ck_assert_str_eq(order, "ABC");
	b.reg_ud = NULL;
	order_reset();
	hyp_hook_run(HYP_HOOK_ACCEPT, NULL, NULL);
	ck_assert_str_eq(order, "ANBC");
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_hook_full)
{
	struct hyp_plugin	*p = fake_plugin("h");
	struct hctx		 h[65];
	int			 i;

	memset(h, 0, sizeof(h));
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_RELOAD, i,
		    hook_cb, &h[i]), 0);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_RELOAD, 0, hook_cb,
	    &h[64]), HYP_ENOSPC);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_RELOAD), 64);
	/* Another point still has room. */
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_ROUTE, 0, hook_cb,
	    &h[64]), 0);
	ck_assert_int_eq(hyp_hook_unregister(p, HYP_HOOK_RELOAD, hook_cb,
	    &h[10]), 0);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_RELOAD, 0, hook_cb,
	    &h[64]), 0);
	hyp_hook_run(HYP_HOOK_RELOAD, NULL, NULL);
	for (i = 0; i < 65; i++)
		ck_assert_int_eq(h[i].calls, i == 10 ? 0 : 1);
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_hook_bad)
{
	struct hyp_plugin	*p = fake_plugin("h");
	struct hctx		 a = { .tag = 'A' };

	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK__COUNT, 0, hook_cb, &a),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_hook_register(p, (enum hyp_hook_point)-1, 0,
	    hook_cb, &a), HYP_EINVAL);
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_ROUTE, 0, NULL, &a),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_hook_unregister(p, HYP_HOOK__COUNT, hook_cb, &a),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_hook_unregister(p, HYP_HOOK_ROUTE, hook_cb, &a),
	    HYP_ENOENT);
	ck_assert_int_eq(hyp_hook_run(HYP_HOOK__COUNT, NULL, NULL), HYP_ERROR);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK__COUNT), 0);
	/* Unregister needs the same plugin and ud. */
	hyp_hook_register(p, HYP_HOOK_ROUTE, 0, hook_cb, &a);
	ck_assert_int_eq(hyp_hook_unregister(NULL, HYP_HOOK_ROUTE, hook_cb,
	    &a), HYP_ENOENT);
	ck_assert_int_eq(hyp_hook_unregister(p, HYP_HOOK_ROUTE, hook_cb, NULL),
	    HYP_ENOENT);
	ck_assert_int_eq(hyp_hook_unregister(p, HYP_HOOK_ACCEPT, hook_cb, &a),
	    HYP_ENOENT);
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_hook_names)
{
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_ACCEPT), "accept");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_HANDSHAKE), "handshake");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_CONNECT_DECODED),
	    "connect-decoded");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_ROUTE), "route");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_REFERRAL), "referral");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_SESSION_END), "session-end");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_PACKET), "packet");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK_RELOAD), "reload");
	ck_assert_str_eq(hyp_hook_name(HYP_HOOK__COUNT), "unknown");
}
END_TEST

START_TEST(test_hook_release)
{
	struct hyp_plugin	*p1 = fake_plugin("one"), *p2 = fake_plugin("two");
	struct hctx		 a = { .tag = 'A' }, b = { .tag = 'B' }, c = { .tag = 'C' },
				 d = { .tag = 'D' };

	hyp_hook_register(p1, HYP_HOOK_ROUTE, 0, hook_cb, &a);
	hyp_hook_register(p2, HYP_HOOK_ROUTE, 1, hook_cb, &b);
	hyp_hook_register(p1, HYP_HOOK_ROUTE, 2, hook_cb, &c);
	hyp_hook_register(p1, HYP_HOOK_SESSION_END, 0, hook_cb, &d);
	hypd_hook_release(p1);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_ROUTE), 1);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_SESSION_END), 0);
	order_reset();
	hyp_hook_run(HYP_HOOK_ROUTE, NULL, NULL);
	ck_assert_str_eq(order, "B");

	/* Release during a run: p1's later handlers are skipped. */
	hyp_hook_register(p1, HYP_HOOK_ROUTE, 0, hook_cb, &a);
	hyp_hook_register(p1, HYP_HOOK_ROUTE, 2, hook_cb, &c);
	b.release_p = p1;
	order_reset();
	hyp_hook_run(HYP_HOOK_ROUTE, NULL, NULL);
	ck_assert_str_eq(order, "AB");
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_ROUTE), 1);
	b.release_p = NULL;
	order_reset();
	hyp_hook_run(HYP_HOOK_ROUTE, NULL, NULL);
	ck_assert_str_eq(order, "B");
	hypd_hook_release(p2);
	ck_assert_int_eq(hyp_hook_count(HYP_HOOK_ROUTE), 0);
	fake_plugin_free(p1);
	fake_plugin_free(p2);
}
END_TEST

/* ---- service.c ---- */

struct vt_router {
	int	(*pick)(void);
};

/* A vtable function. */
static int
vt_pick(void)
{
	return (7);
}

static const struct vt_router	router_vt = { vt_pick };

START_TEST(test_service_provide_get)
{
	struct hyp_plugin	*p = fake_plugin("router");
	const struct vt_router	*vt;
	void			*ctx = NULL;
	unsigned		 version = 0;
	int			 myctx;

	ck_assert_ptr_null(hyp_service_get("router", 0, NULL, NULL));
	ck_assert_int_eq(hyp_service_provide(p, "router", 2, &router_vt,
	    &myctx), 0);
	vt = hyp_service_get("router", 1, &ctx, &version);
	ck_assert_ptr_eq(vt, &router_vt);
	ck_assert_ptr_eq(ctx, &myctx);
	ck_assert_uint_eq(version, 2);
	ck_assert_int_eq(vt->pick(), 7);
	ck_assert_ptr_eq(hyp_service_get("router", 2, NULL, NULL), &router_vt);
	/* Too old: NULL and the out-parameters untouched. */
	ctx = NULL;
	version = 0;
	ck_assert_ptr_null(hyp_service_get("router", 3, &ctx, &version));
	ck_assert_ptr_null(ctx);
	ck_assert_uint_eq(version, 0);
	ck_assert_ptr_null(hyp_service_get("nope", 0, NULL, NULL));
	ck_assert_ptr_null(hyp_service_get(NULL, 0, NULL, NULL));
	/* Duplicate, from the same or another plugin. */
	ck_assert_int_eq(hyp_service_provide(p, "router", 3, &router_vt,
	    NULL), HYP_EEXIST);
	ck_assert_int_eq(hyp_service_provide(NULL, "router", 3, &router_vt,
	    NULL), HYP_EEXIST);
	hypd_service_release(p);
	ck_assert_ptr_null(hyp_service_get("router", 0, NULL, NULL));
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_service_names)
{
	struct hyp_plugin	*p = fake_plugin("s");
	char			 name[80];

	ck_assert_int_eq(hyp_service_provide(p, NULL, 1, &router_vt, NULL),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_service_provide(p, "", 1, &router_vt, NULL),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_service_provide(p, "Router", 1, &router_vt, NULL),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_service_provide(p, "a b", 1, &router_vt, NULL),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_service_provide(p, "a.b", 1, &router_vt, NULL),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_service_provide(p, "ok", 1, NULL, NULL),
	    HYP_EINVAL);
	memset(name, 'a', 63);
	name[63] = '\0';
	ck_assert_int_eq(hyp_service_provide(p, name, 1, &router_vt, NULL), 0);
	ck_assert_ptr_eq(hyp_service_get(name, 0, NULL, NULL), &router_vt);
	memset(name, 'b', 64);
	name[64] = '\0';
	ck_assert_int_eq(hyp_service_provide(p, name, 1, &router_vt, NULL),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_service_provide(p, "re-ferral_2", 1, &router_vt,
	    NULL), 0);
	hypd_service_release(p);
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_service_require)
{
	struct hyp_plugin	*p = fake_plugin("consumer"),
				*q = fake_plugin("provider");
	const char		*log;
	void			*ctx = NULL;
	int			 myctx;

	capture_start();
	ck_assert_ptr_null(hyp_service_require(p, "referral", 1, &ctx));
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "required service 'referral' "
	    "(version >= 1) is not provided by any loaded plugin"));
	ck_assert_ptr_nonnull(strstr(log, "consumer"));

	ck_assert_int_eq(hyp_service_provide(q, "referral", 1, &router_vt,
	    &myctx), 0);
	capture_start();
	ck_assert_ptr_null(hyp_service_require(p, "referral", 4, &ctx));
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "required service 'referral' "
	    "(version >= 4)"));
	ck_assert_ptr_nonnull(strstr(log, "provider"));
	ck_assert_ptr_nonnull(strstr(log, "version 1"));
	ck_assert_ptr_null(ctx);

	capture_start();
	ck_assert_ptr_eq(hyp_service_require(p, "referral", 1, &ctx),
	    &router_vt);
	ck_assert_ptr_eq(hyp_service_require(p, "referral", 0, NULL),
	    &router_vt);
	log = capture_end();
	ck_assert_str_eq(log, "");
	ck_assert_ptr_eq(ctx, &myctx);

	capture_start();
	ck_assert_ptr_null(hyp_service_require(p, NULL, 0, NULL));
	log = capture_end();
	ck_assert_str_ne(log, "");
	hypd_service_release(q);
	fake_plugin_free(p);
	fake_plugin_free(q);
}
END_TEST

START_TEST(test_service_release_and_full)
{
	struct hyp_plugin	*p1 = fake_plugin("one"), *p2 = fake_plugin("two");
	char			 name[16];
	int			 i;

	ck_assert_int_eq(hyp_service_provide(p1, "a", 1, &router_vt, NULL), 0);
	ck_assert_int_eq(hyp_service_provide(p2, "b", 1, &router_vt, NULL), 0);
	ck_assert_int_eq(hyp_service_provide(p1, "c", 1, &router_vt, NULL), 0);
	hypd_service_release(p1);
	ck_assert_ptr_null(hyp_service_get("a", 0, NULL, NULL));
	ck_assert_ptr_null(hyp_service_get("c", 0, NULL, NULL));
	ck_assert_ptr_eq(hyp_service_get("b", 0, NULL, NULL), &router_vt);
	/* The name is free again. */
	ck_assert_int_eq(hyp_service_provide(p2, "a", 1, &router_vt, NULL), 0);
	hypd_service_release(p2);
	ck_assert_ptr_null(hyp_service_get("b", 0, NULL, NULL));

	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "svc-%d", i);
		ck_assert_int_eq(hyp_service_provide(p1, name, 1, &router_vt,
		    NULL), 0);
	}
	ck_assert_int_eq(hyp_service_provide(p1, "one-more", 1, &router_vt,
	    NULL), HYP_ENOSPC);
	ck_assert_ptr_eq(hyp_service_get("svc-63", 0, NULL, NULL), &router_vt);
	hypd_service_release(p1);
	ck_assert_int_eq(hyp_service_provide(p1, "one-more", 1, &router_vt,
	    NULL), 0);
	hypd_service_release(p1);
	fake_plugin_free(p1);
	fake_plugin_free(p2);
}
END_TEST

/* ---- session.c ---- */

/* A session from 10.0.0.1:5520. */
static hyp_session_t *
new_session(void)
{
	struct sockaddr_in	sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5520);
	sin.sin_addr.s_addr = htonl(0x0a000001);
	return (hyp_session_new(NULL, (struct sockaddr *)&sin, sizeof(sin)));
}

START_TEST(test_session_ids)
{
	hyp_session_t	*s[100];
	char		 want[17];
	size_t		 i, j;

	for (i = 0; i < 100; i++) {
		s[i] = new_session();
		ck_assert_ptr_nonnull(s[i]);
		ck_assert_uint_eq(strlen(hyp_session_id_str(s[i])), 16);
		for (j = 0; j < 16; j++)
			ck_assert(isdigit((unsigned char)hyp_session_id_str(
			    s[i])[j]) || (hyp_session_id_str(s[i])[j] >= 'a' &&
			    hyp_session_id_str(s[i])[j] <= 'f'));
		snprintf(want, sizeof(want), "%016llx",
		    (unsigned long long)hyp_session_id(s[i]));
		ck_assert_str_eq(hyp_session_id_str(s[i]), want);
		for (j = 0; j < i; j++)
			ck_assert(hyp_session_id(s[i]) !=
			    hyp_session_id(s[j]));
	}
	ck_assert_uint_eq(hyp_session_count_alive(), 100);
	for (i = 0; i < 100; i++)
		hyp_session_end(s[i], "test");
	ck_assert_uint_eq(hyp_session_count_alive(), 0);
	hyp_session_end(NULL, "x");
}
END_TEST

START_TEST(test_session_peer)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	const struct sockaddr	*sa;
	hyp_session_t		*s;
	socklen_t		 len;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(5520);
	ck_assert_int_eq(inet_pton(AF_INET, "1.2.3.4", &sin.sin_addr), 1);
	s = hyp_session_new(NULL, (struct sockaddr *)&sin, sizeof(sin));
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(hyp_session_peer_str(s), "1.2.3.4:5520");
	sa = hyp_session_peer(s, &len);
	ck_assert_ptr_ne(sa, (struct sockaddr *)&sin);
	ck_assert_uint_eq(len, sizeof(sin));
	ck_assert_int_eq(memcmp(sa, &sin, sizeof(sin)), 0);
	hyp_session_end(s, "x");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(5520);
	sin6.sin6_addr = in6addr_loopback;
	s = hyp_session_new(NULL, (struct sockaddr *)&sin6, sizeof(sin6));
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(hyp_session_peer_str(s), "[::1]:5520");
	hyp_session_end(s, "x");

	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::ff", &sin6.sin6_addr),
	    1);
	sin6.sin6_port = htons(65535);
	s = hyp_session_new(NULL, (struct sockaddr *)&sin6, sizeof(sin6));
	ck_assert_str_eq(hyp_session_peer_str(s), "[2001:db8::ff]:65535");
	hyp_session_end(s, "x");

	/* Short lengths are refused; no peer is allowed. */
	ck_assert_ptr_null(hyp_session_new(NULL, (struct sockaddr *)&sin, 4));
	ck_assert_ptr_null(hyp_session_new(NULL, (struct sockaddr *)&sin6,
	    sizeof(sin)));
	ck_assert_ptr_null(hyp_session_new(NULL, (struct sockaddr *)&sin6,
	    sizeof(struct sockaddr_storage) + 1));
	ck_assert_uint_eq(hyp_session_count_alive(), 0);
	s = hyp_session_new(NULL, NULL, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(hyp_session_peer(s, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(hyp_session_peer_str(s), "-");
	hyp_session_end(s, "x");
}
END_TEST

START_TEST(test_session_strings)
{
	hyp_session_t	*s = new_session();
	char		 sni[300];

	ck_assert_ptr_null(hyp_session_sni(s));
	ck_assert_ptr_null(hyp_session_alpn(s));
	ck_assert_ptr_null(hyp_session_cert_fp(s));
	strcpy(sni, "play.example.com");
	ck_assert_int_eq(hyp_session_set_sni(s, sni), 0);
	sni[0] = 'X';
	ck_assert_str_eq(hyp_session_sni(s), "play.example.com");
	ck_assert_ptr_ne(hyp_session_sni(s), sni);
	ck_assert_int_eq(hyp_session_set_alpn(s, "hytale/2"), 0);
	ck_assert_str_eq(hyp_session_alpn(s), "hytale/2");
	ck_assert_int_eq(hyp_session_set_cert_fp(s, "abc_-"), 0);
	ck_assert_str_eq(hyp_session_cert_fp(s), "abc_-");

	/* Bounds: 255 / 255 / 64; too long keeps the old value. */
	memset(sni, 'a', 255);
	sni[255] = '\0';
	ck_assert_int_eq(hyp_session_set_sni(s, sni), 0);
	ck_assert_uint_eq(strlen(hyp_session_sni(s)), 255);
	ck_assert_int_eq(hyp_session_set_alpn(s, sni), 0);
	sni[255] = 'a';
	sni[256] = '\0';
	ck_assert_int_eq(hyp_session_set_sni(s, sni), HYP_ETOOBIG);
	ck_assert_uint_eq(strlen(hyp_session_sni(s)), 255);
	ck_assert_int_eq(hyp_session_set_alpn(s, sni), HYP_ETOOBIG);
	sni[64] = '\0';
	ck_assert_int_eq(hyp_session_set_cert_fp(s, sni), 0);
	sni[64] = 'a';
	sni[65] = '\0';
	ck_assert_int_eq(hyp_session_set_cert_fp(s, sni), HYP_ETOOBIG);
	ck_assert_uint_eq(strlen(hyp_session_cert_fp(s)), 64);

	/* NULL clears; empty is a value. */
	ck_assert_int_eq(hyp_session_set_sni(s, NULL), 0);
	ck_assert_ptr_null(hyp_session_sni(s));
	ck_assert_int_eq(hyp_session_set_alpn(s, ""), 0);
	ck_assert_str_eq(hyp_session_alpn(s), "");
	hyp_session_end(s, "x");
}
END_TEST

/* Fill a Connect whose views point into buf. */
static void
connect_fill(struct hyp_connect *c, uint8_t *buf)
{
	static const uint8_t	uuid[16] = {
		0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
		0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00
	};

	memcpy(buf, "Steve" "tok.en" "en-US" "\x01\x02\x00\x03" "lobby", 25);
	memset(c, 0, sizeof(*c));
	c->layout = HYP_CONNECT_V2;
	c->protocol_crc = 0x2bef84;
	c->build = 20;
	strcpy(c->client_version, "2026.02.17");
	c->client_type = HYP_CLIENT_GAME;
	c->has_uuid = 1;
	memcpy(c->uuid, uuid, 16);
	c->username.ptr = buf;
	c->username.len = 5;
	c->identity_token.ptr = buf + 5;
	c->identity_token.len = 6;
	c->language.ptr = buf + 11;
	c->language.len = 5;
	c->referral_data.ptr = buf + 16;
	c->referral_data.len = 4;
	c->has_referral_source = 1;
	c->referral_source.port = 5521;
	c->referral_source.host.ptr = buf + 20;
	c->referral_source.host.len = 5;
}

START_TEST(test_session_connect_copy)
{
	hyp_session_t			*s = new_session();
	const struct hyp_connect	*sc;
	struct hyp_connect		 c;
	uint8_t				 stackbuf[64], *heap;

	ck_assert_ptr_null(hyp_session_connect(s));
	ck_assert_ptr_null(hyp_session_username(s));
	ck_assert_ptr_null(hyp_session_uuid_str(s));

	/* Views into a heap buffer that is freed right after the copy. */
	heap = malloc(25);
	ck_assert_ptr_nonnull(heap);
	connect_fill(&c, heap);
	ck_assert_int_eq(hyp_session_set_connect(s, &c), 0);
	memset(heap, 'X', 25);
	free(heap);
	memset(&c, 0xAA, sizeof(c));

	sc = hyp_session_connect(s);
	ck_assert_ptr_nonnull(sc);
	ck_assert_int_eq(sc->layout, HYP_CONNECT_V2);
	ck_assert_int_eq(sc->protocol_crc, 0x2bef84);
	ck_assert_int_eq(sc->build, 20);
	ck_assert_str_eq(sc->client_version, "2026.02.17");
	ck_assert_uint_eq(sc->username.len, 5);
	ck_assert_int_eq(memcmp(sc->username.ptr, "Steve", 5), 0);
	ck_assert_uint_eq(sc->identity_token.len, 6);
	ck_assert_int_eq(memcmp(sc->identity_token.ptr, "tok.en", 6), 0);
	ck_assert_int_eq(memcmp(sc->language.ptr, "en-US", 5), 0);
	ck_assert_uint_eq(sc->referral_data.len, 4);
	ck_assert_int_eq(memcmp(sc->referral_data.ptr, "\x01\x02\x00\x03", 4),
	    0);
	ck_assert_int_eq(sc->has_referral_source, 1);
	ck_assert_uint_eq(sc->referral_source.port, 5521);
	ck_assert_int_eq(memcmp(sc->referral_source.host.ptr, "lobby", 5), 0);
	ck_assert_str_eq(hyp_session_username(s), "Steve");
	ck_assert_str_eq(hyp_session_uuid_str(s),
	    "123e4567-e89b-12d3-a456-426614174000");

	/* Replace with a V3 Connect from a stack buffer: no uuid, no name. */
	connect_fill(&c, stackbuf);
	c.layout = HYP_CONNECT_V3;
	c.has_uuid = 0;
	c.username.ptr = NULL;
	c.username.len = 0;
	c.referral_data.ptr = stackbuf;		/* empty but present */
	c.referral_data.len = 0;
	c.identity_token.ptr = NULL;
	c.identity_token.len = 0;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), 0);
	memset(stackbuf, 0, sizeof(stackbuf));
	sc = hyp_session_connect(s);
	ck_assert_int_eq(sc->layout, HYP_CONNECT_V3);
	ck_assert_ptr_null(sc->username.ptr);
	ck_assert_ptr_null(sc->identity_token.ptr);
	ck_assert_ptr_nonnull(sc->referral_data.ptr);
	ck_assert_ptr_ne(sc->referral_data.ptr, stackbuf);
	ck_assert_uint_eq(sc->referral_data.len, 0);
	ck_assert_int_eq(memcmp(sc->language.ptr, "en-US", 5), 0);
	ck_assert_ptr_null(hyp_session_username(s));
	ck_assert_ptr_null(hyp_session_uuid_str(s));
	hyp_session_end(s, "x");
}
END_TEST

START_TEST(test_session_connect_bad)
{
	hyp_session_t		*s = new_session();
	struct hyp_connect	 c;
	uint8_t			 buf[64], big[9000];

	connect_fill(&c, buf);
	ck_assert_int_eq(hyp_session_set_connect(s, NULL), HYP_EINVAL);

	/* A NUL inside the username. */
	buf[2] = '\0';
	ck_assert_int_eq(hyp_session_set_connect(s, &c), HYP_EINVAL);
	ck_assert_ptr_null(hyp_session_connect(s));

	/* Over the documented maxima. */
	memset(big, 'a', sizeof(big));
	connect_fill(&c, buf);
	c.username.ptr = big;
	c.username.len = HYP_USERNAME_MAX + 1;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), HYP_ETOOBIG);
	c.username.len = HYP_USERNAME_MAX;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), 0);
	ck_assert_uint_eq(strlen(hyp_session_username(s)), HYP_USERNAME_MAX);
	c.identity_token.ptr = big;
	c.identity_token.len = HYP_IDENTITY_TOKEN_MAX + 1;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), HYP_ETOOBIG);
	c.identity_token.len = HYP_IDENTITY_TOKEN_MAX;
	c.referral_data.ptr = big;
	c.referral_data.len = HYP_REFERRAL_DATA_MAX + 1;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), HYP_ETOOBIG);
	c.referral_data.len = 0;
	c.referral_source.host.ptr = big;
	c.referral_source.host.len = HYP_HOST_MAX + 1;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), HYP_ETOOBIG);
	c.referral_source.host.len = 3;
	/* An absent view with a length. */
	c.language.ptr = NULL;
	c.language.len = 3;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), HYP_EINVAL);
	/* The earlier good copy is untouched. */
	ck_assert_uint_eq(hyp_session_connect(s)->identity_token.len, 6);
	c.language.len = 0;
	ck_assert_int_eq(hyp_session_set_connect(s, &c), 0);
	ck_assert_uint_eq(hyp_session_connect(s)->identity_token.len,
	    HYP_IDENTITY_TOKEN_MAX);
	hyp_session_end(s, "x");
}
END_TEST

START_TEST(test_session_decision)
{
	hyp_session_t	*s = new_session();
	hyp_backend_t	*b, *b2;
	char		 msg[5000];

	ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_NONE);
	ck_assert_ptr_null(hyp_session_backend(s));
	ck_assert_uint_eq(hyp_session_mark_us(s, HYP_MARK_DECISION), 0);

	b = hyp_backend_new("lobby-1", "10.0.0.2", 5520);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_REFER, b, NULL), 0);
	hyp_backend_unref(b);	/* the session keeps its own reference */
	ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_REFER);
	ck_assert_ptr_eq(hyp_session_backend(s), b);
	ck_assert_str_eq(hyp_backend_id(hyp_session_backend(s)), "lobby-1");
	ck_assert_str_eq(hyp_backend_host(b), "10.0.0.2");
	ck_assert_uint_eq(hyp_backend_port(b), 5520);
	ck_assert_uint_ne(hyp_session_mark_us(s, HYP_MARK_DECISION), 0);

	/* Re-deciding for another backend drops the old reference. */
	b2 = hyp_backend_new("lobby-2", "10.0.0.3", 5521);
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_PROXY, b2, NULL),
	    0);
	ck_assert_ptr_eq(hyp_session_backend(s), b2);
	/* Re-deciding the same backend keeps it alive. */
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_PROXY, b2, NULL),
	    0);
	hyp_backend_unref(b2);
	ck_assert_str_eq(hyp_backend_id(hyp_session_backend(s)), "lobby-2");

	/* Bad combinations change nothing. */
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_REFER, NULL, NULL),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_DENY, b2, "no"),
	    HYP_EINVAL);
	ck_assert_int_eq(hyp_session_decide(s, (enum hyp_decision)99, NULL,
	    NULL), HYP_EINVAL);
	ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_PROXY);
	memset(msg, 'm', sizeof(msg));
	msg[4097] = '\0';
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_DENY, NULL, msg),
	    HYP_ETOOBIG);
	ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_PROXY);
	ck_assert_ptr_nonnull(hyp_session_backend(s));

	/* Deny: message copied, backend dropped. */
	msg[4096] = '\0';
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_DENY, NULL, msg),
	    0);
	ck_assert_int_eq(hyp_session_decision(s), HYP_DECISION_DENY);
	ck_assert_ptr_null(hyp_session_backend(s));
	ck_assert_uint_eq(strlen(hyp_session_deny_message(s)), 4096);
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_DENY, NULL,
	    "Server full"), 0);
	ck_assert_str_eq(hyp_session_deny_message(s), "Server full");

	/* A backend decision after a deny clears the message. */
	b = hyp_backend_new("lobby-1", "10.0.0.2", 5520);
	ck_assert_int_eq(hyp_session_decide(s, HYP_DECISION_REFER, b, "x"), 0);
	ck_assert_ptr_null(hyp_session_deny_message(s));
	hyp_backend_unref(b);
	/* End frees the session's reference (LSan checks). */
	hyp_session_end(s, "referred");
}
END_TEST

START_TEST(test_backend)
{
	hyp_backend_t	*b;
	char		 s[300];

	ck_assert_ptr_null(hyp_backend_new(NULL, "h", 1));
	ck_assert_ptr_null(hyp_backend_new("id", NULL, 1));
	ck_assert_ptr_null(hyp_backend_new("", "h", 1));
	ck_assert_ptr_null(hyp_backend_new("id", "", 1));
	memset(s, 'x', sizeof(s));
	s[65] = '\0';
	ck_assert_ptr_null(hyp_backend_new(s, "h", 1));
	s[64] = '\0';
	b = hyp_backend_new(s, "h", 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(hyp_backend_id(b), s);
	hyp_backend_unref(b);
	memset(s, 'x', sizeof(s));
	s[256] = '\0';
	ck_assert_ptr_null(hyp_backend_new("id", s, 1));
	s[255] = '\0';
	b = hyp_backend_new("id", s, 65535);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(hyp_backend_host(b), s);
	ck_assert_uint_eq(hyp_backend_port(b), 65535);

	ck_assert_ptr_null(hyp_backend_pool(b));
	ck_assert_int_eq(hyp_backend_set_pool(b, "lobby"), 0);
	ck_assert_str_eq(hyp_backend_pool(b), "lobby");
	memset(s, 'p', sizeof(s));
	s[256] = '\0';
	ck_assert_int_eq(hyp_backend_set_pool(b, s), HYP_ETOOBIG);
	ck_assert_str_eq(hyp_backend_pool(b), "lobby");
	ck_assert_ptr_eq(hyp_backend_ref(b), b);
	hyp_backend_unref(b);
	ck_assert_str_eq(hyp_backend_pool(b), "lobby");
	ck_assert_int_eq(hyp_backend_set_pool(b, NULL), 0);
	ck_assert_ptr_null(hyp_backend_pool(b));
	ck_assert_int_eq(hyp_backend_set_pool(b, "games"), 0);
	hyp_backend_unref(b);
	hyp_backend_unref(NULL);
	ck_assert_ptr_null(hyp_backend_ref(NULL));
}
END_TEST

START_TEST(test_session_reason)
{
	hyp_session_t	*s = new_session();
	const char	*r, *tok;
	char		 val[1100], copy[1100], *save, *t;
	int		 rc, n;

	ck_assert_str_eq(hyp_session_reason(s), "");
	ck_assert_int_eq(hyp_session_add_reason(s, "route", "%s", "lobby"), 0);
	ck_assert_int_eq(hyp_session_add_reason(s, "load", "%.2f", 0.4), 0);
	ck_assert_int_eq(hyp_session_add_reason(s, "n", "%d", 3), 0);
	ck_assert_str_eq(hyp_session_reason(s), "route=lobby load=0.40 n=3");
	ck_assert_int_eq(hyp_session_add_reason(s, NULL, "x"), HYP_EINVAL);
	ck_assert_int_eq(hyp_session_add_reason(s, "", "x"), HYP_EINVAL);
	ck_assert_int_eq(hyp_session_add_reason(s, "a b", "x"), HYP_EINVAL);
	ck_assert_int_eq(hyp_session_add_reason(s, "a=b", "x"), HYP_EINVAL);

	/* A value bigger than the whole buffer is dropped, nothing partial. */
	memset(val, 'v', sizeof(val));
	val[sizeof(val) - 1] = '\0';
	ck_assert_int_eq(hyp_session_add_reason(s, "big", "%s", val),
	    HYP_ENOSPC);
	ck_assert_str_eq(hyp_session_reason(s), "route=lobby load=0.40 n=3");

	/* Fill up with 12-byte pairs until refused. */
	for (n = 0; n < 200; n++) {
		rc = hyp_session_add_reason(s, "key", "%08d", n);
		if (rc != 0)
			break;
	}
	ck_assert_int_eq(rc, HYP_ENOSPC);
	r = hyp_session_reason(s);
	ck_assert_uint_le(strlen(r), 1023);
	ck_assert_uint_gt(strlen(r), 1023 - 13);
	/* Every token is a complete pair. */
	strcpy(copy, r);
	for (t = strtok_r(copy, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save)) {
		tok = strchr(t, '=');
		ck_assert_ptr_nonnull(tok);
		if (strncmp(t, "key=", 4) == 0)
			ck_assert_uint_eq(strlen(t), 12);
	}
	/* A smaller pair may still fit. */
	if (strlen(r) <= 1023 - 4)
		ck_assert_int_eq(hyp_session_add_reason(s, "k", "v"), 0);
	ck_assert_uint_le(strlen(hyp_session_reason(s)), 1023);
	hyp_session_end(s, "x");
}
END_TEST

START_TEST(test_session_reason_lazy)
{
	hyp_session_t	*s = new_session();
	char		 val[1100];

	/* No reason yet: "", also after refused pairs. */
	ck_assert_str_eq(hyp_session_reason(s), "");
	ck_assert_int_eq(hyp_session_add_reason(s, "a b", "x"), HYP_EINVAL);
	memset(val, 'v', sizeof(val));
	val[sizeof(val) - 1] = '\0';
	ck_assert_int_eq(hyp_session_add_reason(s, "big", "%s", val),
	    HYP_ENOSPC);
	ck_assert_str_eq(hyp_session_reason(s), "");

	/* The first pair may fill exactly 1023 bytes; nothing more fits. */
	val[1023 - 2] = '\0';
	ck_assert_int_eq(hyp_session_add_reason(s, "k", "%s", val), 0);
	ck_assert_uint_eq(strlen(hyp_session_reason(s)), 1023);
	ck_assert_int_eq(hyp_session_add_reason(s, "x", "%s", ""), HYP_ENOSPC);
	ck_assert_uint_eq(strlen(hyp_session_reason(s)), 1023);
	hyp_session_end(s, "x");

	/* One byte over on the first pair is refused whole. */
	s = new_session();
	memset(val, 'v', sizeof(val));
	val[1023 - 1] = '\0';
	ck_assert_int_eq(hyp_session_add_reason(s, "k", "%s", val),
	    HYP_ENOSPC);
	ck_assert_str_eq(hyp_session_reason(s), "");
	hyp_session_end(s, "x");
}
END_TEST

START_TEST(test_session_marks_counters)
{
	hyp_session_t	*s = new_session();
	uint64_t	 t;

	ck_assert_uint_eq(hyp_session_mark_us(s, HYP_MARK_FIRST_PACKET), 0);
	hyp_session_mark(s, HYP_MARK_FIRST_PACKET);
	t = hyp_session_mark_us(s, HYP_MARK_FIRST_PACKET);
	ck_assert_uint_ne(t, 0);
	ck_assert_uint_le(t, hyp_now_us());
	usleep(1000);
	hyp_session_mark(s, HYP_MARK_FIRST_PACKET);
	ck_assert_uint_eq(hyp_session_mark_us(s, HYP_MARK_FIRST_PACKET), t);
	ck_assert_uint_eq(hyp_session_mark_us(s, HYP_MARK_HANDSHAKE_DONE), 0);
	hyp_session_mark(s, HYP_MARK__COUNT);
	ck_assert_uint_eq(hyp_session_mark_us(s, HYP_MARK__COUNT), 0);

	hyp_session_count(s, HYP_CTR_BYTES_IN, 10);
	hyp_session_count(s, HYP_CTR_BYTES_IN, 5);
	hyp_session_count(s, HYP_CTR_PACKETS_OUT, 1);
	hyp_session_count(s, HYP_CTR__COUNT, 1);
	ck_assert_uint_eq(hyp_session_counter(s, HYP_CTR_BYTES_IN), 15);
	ck_assert_uint_eq(hyp_session_counter(s, HYP_CTR_BYTES_OUT), 0);
	ck_assert_uint_eq(hyp_session_counter(s, HYP_CTR_PACKETS_OUT), 1);
	ck_assert_uint_eq(hyp_session_counter(s, HYP_CTR__COUNT), 0);
	ck_assert_ptr_null(hyp_session_outcome(s));
	hyp_session_end(s, "x");
}
END_TEST

static int	freed[32];

/* Count frees of an int-tagged datum. */
static void
data_free(void *d)
{
	freed[*(int *)d]++;
}

START_TEST(test_session_data)
{
	struct hyp_plugin	*p[17];
	hyp_session_t		*s = new_session();
	int			 tags[32], i;

	memset(freed, 0, sizeof(freed));
	for (i = 0; i < 32; i++)
		tags[i] = i;
	for (i = 0; i < 17; i++)
		p[i] = fake_plugin("d");
	ck_assert_ptr_null(hyp_session_data(s, p[0]));
	ck_assert_int_eq(hyp_session_set_data(s, p[0], &tags[0], data_free), 0);
	ck_assert_ptr_eq(hyp_session_data(s, p[0]), &tags[0]);
	ck_assert_ptr_null(hyp_session_data(s, p[1]));
	/* Replacing frees the old datum; the same pointer is not freed. */
	ck_assert_int_eq(hyp_session_set_data(s, p[0], &tags[1], data_free), 0);
	ck_assert_int_eq(freed[0], 1);
	ck_assert_int_eq(hyp_session_set_data(s, p[0], &tags[1], data_free), 0);
	ck_assert_int_eq(freed[1], 0);
	/* NULL removes (and frees). */
	ck_assert_int_eq(hyp_session_set_data(s, p[0], NULL, NULL), 0);
	ck_assert_int_eq(freed[1], 1);
	ck_assert_ptr_null(hyp_session_data(s, p[0]));
	ck_assert_int_eq(hyp_session_set_data(s, p[0], NULL, NULL), 0);

	/* 16 slots, the 17th plugin is refused. */
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(hyp_session_set_data(s, p[i], &tags[i + 2],
		    i == 5 ? NULL : data_free), 0);
	ck_assert_int_eq(hyp_session_set_data(s, p[16], &tags[20], data_free),
	    HYP_ENOSPC);
	for (i = 0; i < 16; i++)
		ck_assert_ptr_eq(hyp_session_data(s, p[i]), &tags[i + 2]);
	hyp_session_end(s, "x");
	for (i = 0; i < 16; i++)
		ck_assert_int_eq(freed[i + 2], i == 5 ? 0 : 1);
	ck_assert_int_eq(freed[20], 0);
	for (i = 0; i < 17; i++)
		fake_plugin_free(p[i]);
}
END_TEST

START_TEST(test_session_release)
{
	struct hyp_plugin	*p1 = fake_plugin("one"), *p2 = fake_plugin("two");
	hyp_session_t		*s1 = new_session(), *s2 = new_session();
	int			 tags[32], i;

	memset(freed, 0, sizeof(freed));
	for (i = 0; i < 32; i++)
		tags[i] = i;
	hyp_session_set_data(s1, p1, &tags[1], data_free);
	hyp_session_set_data(s2, p1, &tags[2], data_free);
	hyp_session_set_data(s1, p2, &tags[3], data_free);
	hypd_session_release(p1);
	ck_assert_int_eq(freed[1], 1);
	ck_assert_int_eq(freed[2], 1);
	ck_assert_int_eq(freed[3], 0);
	ck_assert_ptr_null(hyp_session_data(s1, p1));
	ck_assert_ptr_null(hyp_session_data(s2, p1));
	ck_assert_ptr_eq(hyp_session_data(s1, p2), &tags[3]);
	hyp_session_end(s1, "x");
	hyp_session_end(s2, "x");
	ck_assert_int_eq(freed[1], 1);
	ck_assert_int_eq(freed[3], 1);
	fake_plugin_free(p1);
	fake_plugin_free(p2);
}
END_TEST

START_TEST(test_session_release_owner_warns)
{
	struct hyp_plugin	*p = fake_plugin("transport");
	hyp_session_t		*s;
	const char		*log;

	s = hyp_session_new(p, NULL, 0);
	capture_start();
	hypd_session_release(p);
	log = capture_end();
	ck_assert_ptr_nonnull(strstr(log, "1 sessions left open at unload"));
	hyp_session_end(s, "x");
	fake_plugin_free(p);
}
END_TEST

START_TEST(test_session_max)
{
	hyp_session_t	*a, *b, *c;

	hypd_session_set_max(2);
	a = new_session();
	b = new_session();
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(new_session());
	ck_assert_uint_eq(hyp_session_count_alive(), 2);
	hyp_session_end(a, "x");
	ck_assert_uint_eq(hyp_session_count_alive(), 1);
	c = new_session();
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(new_session());
	hypd_session_set_max(0);
	a = new_session();
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(hyp_session_count_alive(), 3);
	hyp_session_end(a, "x");
	hyp_session_end(b, "x");
	hyp_session_end(c, "x");
	ck_assert_uint_eq(hyp_session_count_alive(), 0);
}
END_TEST

struct endctx {
	int		 calls;
	char		 outcome[64];
	uint64_t	 end_mark;
	unsigned	 alive;
	void		*data;
	char		 id[17];
};

/* A session-end handler that records what it sees. */
static enum hyp_hook_rc
end_cb(hyp_plugin_t *p, hyp_session_t *s, void *arg, void *ud)
{
	struct endctx	*e = ud;

	e->calls++;
	ck_assert_ptr_null(arg);
	snprintf(e->outcome, sizeof(e->outcome), "%s", hyp_session_outcome(s));
	e->end_mark = hyp_session_mark_us(s, HYP_MARK_END);
	e->alive = hyp_session_count_alive();
	e->data = hyp_session_data(s, p);
	snprintf(e->id, sizeof(e->id), "%s", hyp_session_id_str(s));
	/* Ending again from the hook is ignored. */
	hyp_session_end(s, "again");
	return (HYP_CONTINUE);
}

START_TEST(test_session_end_hook)
{
	struct hyp_plugin	*p = fake_plugin("metrics");
	struct endctx		 e = { 0 };
	hyp_session_t		*s;
	char			 id[17], longer[100];
	int			 tag = 7;

	memset(freed, 0, sizeof(freed));
	ck_assert_int_eq(hyp_hook_register(p, HYP_HOOK_SESSION_END, 0, end_cb,
	    &e), 0);
	s = new_session();
	snprintf(id, sizeof(id), "%s", hyp_session_id_str(s));
	hyp_session_set_data(s, p, &tag, data_free);
	hyp_session_end(s, "referred");
	ck_assert_int_eq(e.calls, 1);
	ck_assert_str_eq(e.outcome, "referred");
	ck_assert_uint_ne(e.end_mark, 0);
	ck_assert_uint_eq(e.alive, 0);
	ck_assert_ptr_eq(e.data, &tag);
	ck_assert_str_eq(e.id, id);
	ck_assert_int_eq(freed[7], 1);

	/* NULL becomes "unknown"; a long outcome is cut to 63 bytes. */
	s = new_session();
	hyp_session_end(s, NULL);
	ck_assert_str_eq(e.outcome, "unknown");
	memset(longer, 'o', sizeof(longer));
	longer[sizeof(longer) - 1] = '\0';
	s = new_session();
	hyp_session_end(s, longer);
	ck_assert_uint_eq(strlen(e.outcome), 63);
	ck_assert_int_eq(e.calls, 3);
	hypd_hook_release(p);
	fake_plugin_free(p);
}
END_TEST

/* ---- main ---- */

/* Build the suite. */
static Suite *
core_suite(void)
{
	Suite	*su = suite_create("core");
	TCase	*tc;

	tc = tcase_create("event");
	tcase_add_checked_fixture(tc, event_setup, event_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_clock_and_base);
	tcase_add_test(tc, test_timer_oneshot);
	tcase_add_test(tc, test_timer_repeat);
	tcase_add_test(tc, test_timer_stop_restart);
	tcase_add_test(tc, test_timer_free_self);
	tcase_add_test(tc, test_timer_core_owned);
	tcase_add_test(tc, test_timer_bad);
	tcase_add_test(tc, test_watch_pipe);
	tcase_add_test(tc, test_watch_write);
	tcase_add_test(tc, test_defer);
	tcase_add_test(tc, test_event_release);
	suite_add_tcase(su, tc);

	tc = tcase_create("hook");
	tcase_add_test(tc, test_hook_order);
	tcase_add_test(tc, test_hook_codes);
	tcase_add_test(tc, test_hook_unknown_code);
	tcase_add_test(tc, test_hook_unregister_during_run);
	tcase_add_test(tc, test_hook_register_before_current);
	tcase_add_test(tc, test_hook_full);
	tcase_add_test(tc, test_hook_bad);
	tcase_add_test(tc, test_hook_names);
	tcase_add_test(tc, test_hook_release);
	suite_add_tcase(su, tc);

	tc = tcase_create("service");
	tcase_add_test(tc, test_service_provide_get);
	tcase_add_test(tc, test_service_names);
	tcase_add_test(tc, test_service_require);
	tcase_add_test(tc, test_service_release_and_full);
	suite_add_tcase(su, tc);

	tc = tcase_create("session");
	tcase_add_test(tc, test_session_ids);
	tcase_add_test(tc, test_session_peer);
	tcase_add_test(tc, test_session_strings);
	tcase_add_test(tc, test_session_connect_copy);
	tcase_add_test(tc, test_session_connect_bad);
	tcase_add_test(tc, test_session_decision);
	tcase_add_test(tc, test_backend);
	tcase_add_test(tc, test_session_reason);
	tcase_add_test(tc, test_session_reason_lazy);
	tcase_add_test(tc, test_session_marks_counters);
	tcase_add_test(tc, test_session_data);
	tcase_add_test(tc, test_session_release);
	tcase_add_test(tc, test_session_release_owner_warns);
	tcase_add_test(tc, test_session_max);
	tcase_add_test(tc, test_session_end_hook);
	suite_add_tcase(su, tc);
	return (su);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(core_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed != 0);
}
