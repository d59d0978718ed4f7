/*
 * Hook points: per point a bounded array of handlers sorted by (priority,
 * registration sequence).
 *
 * Handlers may register and unregister handlers (their own included) while
 * a chain runs.  hyp_hook_run() neither copies the array nor marks entries:
 * it keeps the key (priority, seq) of the handler it just called and, when
 * the array changed meanwhile (a generation counter tells), resumes at the
 * first entry that sorts after that key.  Since the array
 * stays sorted whatever the handler did, a handler removed during the run
 * is never called after its removal, none is called twice, and none is
 * skipped.  A handler registered during a run takes its sorted place but
 * runs only from the next run on (its sequence number is newer than the
 * run's start).
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hyproxd.h"

/* Handlers per hook point. */
#define HYPD_HOOK_MAX	64

struct hypd_hook_ent {
	hyp_plugin_t	*p;
	int		 priority;
	uint64_t	 seq;
	hyp_hook_fn	 fn;
	void		*ud;
};

struct hypd_hook_point {
	struct hypd_hook_ent	 ents[HYPD_HOOK_MAX];
	unsigned		 n;
	uint64_t		 gen;		/* bumped by every change */
};

static struct hypd_hook_point	hypd_hooks[HYP_HOOK__COUNT];
static uint64_t			hypd_hook_seq;

static const char *const hypd_hook_names[HYP_HOOK__COUNT] = {
	[HYP_HOOK_ACCEPT] = "accept",
	[HYP_HOOK_HANDSHAKE] = "handshake",
	[HYP_HOOK_CONNECT_DECODED] = "connect-decoded",
	[HYP_HOOK_ROUTE] = "route",
	[HYP_HOOK_REFERRAL] = "referral",
	[HYP_HOOK_SESSION_END] = "session-end",
	[HYP_HOOK_PACKET] = "packet",
	[HYP_HOOK_RELOAD] = "reload",
	[HYP_HOOK_AUDIT] = "audit",
	[HYP_HOOK_PLUGIN_STATE] = "plugin-state",
};

static int	hypd_hook_before(const struct hypd_hook_ent *,
		    const struct hypd_hook_ent *);
static void	hypd_hook_remove(struct hypd_hook_point *, unsigned);

/* Whether a sorts before b. */
static int
hypd_hook_before(const struct hypd_hook_ent *a, const struct hypd_hook_ent *b)
{
	if (a->priority != b->priority)
		return (a->priority < b->priority);
	return (a->seq < b->seq);
}

/* Remove entry i, keeping the order. */
static void
hypd_hook_remove(struct hypd_hook_point *hp, unsigned i)
{
	memmove(&hp->ents[i], &hp->ents[i + 1],
	    (hp->n - i - 1) * sizeof(hp->ents[0]));
	hp->n--;
	hp->gen++;
}

/* Register a handler in its sorted place. */
int
hyp_hook_register(hyp_plugin_t *p, enum hyp_hook_point point, int priority,
    hyp_hook_fn fn, void *ud)
{
	struct hypd_hook_point	*hp;
	struct hypd_hook_ent	 e;
	unsigned		 i;

	if ((unsigned)point >= HYP_HOOK__COUNT || fn == NULL)
		return (HYP_EINVAL);
	hp = &hypd_hooks[point];
	if (hp->n >= HYPD_HOOK_MAX)
		return (HYP_ENOSPC);

	e.p = p;
	e.priority = priority;
	e.seq = ++hypd_hook_seq;
	e.fn = fn;
	e.ud = ud;
	for (i = hp->n; i > 0 && hypd_hook_before(&e, &hp->ents[i - 1]); i--)
		continue;
	memmove(&hp->ents[i + 1], &hp->ents[i],
	    (hp->n - i) * sizeof(hp->ents[0]));
	hp->ents[i] = e;
	hp->n++;
	hp->gen++;
	return (0);
}

/* Remove the first handler matching p, point, fn and ud. */
int
hyp_hook_unregister(hyp_plugin_t *p, enum hyp_hook_point point,
    hyp_hook_fn fn, void *ud)
{
	struct hypd_hook_point	*hp;
	unsigned		 i;

	if ((unsigned)point >= HYP_HOOK__COUNT || fn == NULL)
		return (HYP_EINVAL);
	hp = &hypd_hooks[point];
	for (i = 0; i < hp->n; i++) {
		if (hp->ents[i].fn == fn && hp->ents[i].p == p &&
		    hp->ents[i].ud == ud) {
			hypd_hook_remove(hp, i);
			return (0);
		}
	}
	return (HYP_ENOENT);
}

/* Run a point's chain until a handler does not continue. */
enum hyp_hook_rc
hyp_hook_run(enum hyp_hook_point point, hyp_session_t *s, void *arg)
{
	struct hypd_hook_point	*hp;
	struct hypd_hook_ent	 cur;
	enum hyp_hook_rc	 rc = HYP_CONTINUE;
	uint64_t		 limit, gen;
	unsigned		 i;
	int			 code;

	if ((unsigned)point >= HYP_HOOK__COUNT)
		return (HYP_ERROR);
	hp = &hypd_hooks[point];
	if (hp->n == 0)
		return (HYP_CONTINUE);

	limit = hypd_hook_seq;
	gen = hp->gen;
	i = 0;
	while (i < hp->n) {
		cur = hp->ents[i];
		if (cur.seq > limit) {
			i++;
			continue;
		}
		code = (int)cur.fn(cur.p, s, arg, cur.ud);
		if (code < HYP_CONTINUE || code > HYP_ERROR) {
			/* hyp_log() prefixes the plugin's name. */
			hyp_log(cur.p, HYP_LOG_WARNING, "%s hook handler "
			    "returned unknown code %d, treated as error",
			    hypd_hook_names[point], code);
			code = HYP_ERROR;
		}
		if (code != HYP_CONTINUE) {
			rc = (enum hyp_hook_rc)code;
			break;
		}
		if (hp->gen == gen) {
			i++;
			continue;
		}
		/* The handler changed the array: resume after cur's key. */
		gen = hp->gen;
		for (i = 0; i < hp->n && !hypd_hook_before(&cur, &hp->ents[i]);
		    i++)
			continue;
	}
	return (rc);
}

/* Count the handlers of a point. */
int
hyp_hook_count(enum hyp_hook_point point)
{
	if ((unsigned)point >= HYP_HOOK__COUNT)
		return (0);
	return ((int)hypd_hooks[point].n);
}

/* Name a hook point. */
const char *
hyp_hook_name(enum hyp_hook_point point)
{
	if ((unsigned)point >= HYP_HOOK__COUNT)
		return ("unknown");
	return (hypd_hook_names[point]);
}

/* Drop every handler p registered. */
void
hypd_hook_release(hyp_plugin_t *p)
{
	struct hypd_hook_point	*hp;
	unsigned		 pt, i;

	for (pt = 0; pt < HYP_HOOK__COUNT; pt++) {
		hp = &hypd_hooks[pt];
		for (i = hp->n; i > 0; i--) {
			if (hp->ents[i - 1].p == p)
				hypd_hook_remove(hp, i - 1);
		}
	}
}
