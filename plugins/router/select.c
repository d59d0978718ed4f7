/*
 * select.c: route matching (first match wins), the pool strategies, the
 * fallback chain and the decision recorded on the session.
 */
#include <netinet/in.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "router.h"

/* Fixed key: every hyprox instance hashes the same way. */
static const uint8_t rt_hash_key[crypto_shorthash_KEYBYTES] = {
	'h', 'y', 'p', 'r', 'o', 'x', '-', 'r',
	'o', 'u', 't', 'e', 'r', '-', 'v', '1',
};

/* Whether name (any case, one trailing dot ignored) matches pattern. */
int
rt_sni_match(const char *pattern, const char *name)
{
	size_t	n = strlen(name), pl = strlen(pattern);

	if (n > 1 && name[n - 1] == '.')
		n--;
	if (pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com": one or more labels before the suffix. */
		pl--;
		return (n > pl && strncasecmp(name + n - pl, pattern + 1,
		    pl) == 0);
	}
	return (n == pl && strncasecmp(name, pattern, n) == 0);
}

/* The address bytes that identify a client: 4 (IPv4) or 16 (IPv6). */
static size_t
peer_addr(hyp_session_t *s, uint8_t out[16], int *fam)
{
	const struct sockaddr		*sa;
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	socklen_t			 len = 0;

	sa = hyp_session_peer(s, &len);
	if (sa == NULL || len == 0)
		return (0);
	if (sa->sa_family == AF_INET && len >= sizeof(*sin)) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(out, &sin->sin_addr, 4);
		*fam = AF_INET;
		return (4);
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(*sin6)) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(out, &sin6->sin6_addr.s6_addr[12], 4);
			*fam = AF_INET;
			return (4);
		}
		memcpy(out, &sin6->sin6_addr, 16);
		*fam = AF_INET6;
		return (16);
	}
	return (0);
}

/* Whether the Connect's referral source matches one entry. */
static int
refsrc_match(const struct rt_match *m, const struct hyp_connect *c)
{
	char	host[HYP_HOST_MAX + 1];
	size_t	n, i;

	if (c == NULL || !c->has_referral_source ||
	    c->referral_source.host.ptr == NULL)
		return (0);
	n = c->referral_source.host.len;
	if (n >= sizeof(host))
		return (0);
	memcpy(host, c->referral_source.host.ptr, n);
	host[n] = '\0';
	if (n > 1 && host[n - 1] == '.')
		host[--n] = '\0';
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	for (i = 0; i < m->nref; i++) {
		if (strcasecmp(m->ref[i].host, host) == 0 &&
		    (m->ref[i].port < 0 ||
		    m->ref[i].port == c->referral_source.port))
			return (1);
	}
	return (0);
}

/* Whether every condition of m holds for s (an empty match always does). */
int
rt_match_session(const struct rt_match *m, hyp_session_t *s)
{
	const struct hyp_connect	*c = hyp_session_connect(s);
	const struct sockaddr		*sa;
	const char			*v;
	socklen_t			 salen = 0;
	size_t				 i;
	int				 ok;

	if (m->nsni > 0) {
		if ((v = hyp_session_sni(s)) == NULL)
			return (0);
		for (ok = 0, i = 0; i < m->nsni && !ok; i++)
			ok = rt_sni_match(m->sni[i], v);
		if (!ok)
			return (0);
	}
	if (m->client_type >= 0 &&
	    (c == NULL || c->client_type != (uint8_t)m->client_type))
		return (0);
	if (m->ncrc > 0) {
		if (c == NULL || c->layout == HYP_CONNECT_V1)
			return (0);
		for (ok = 0, i = 0; i < m->ncrc && !ok; i++)
			ok = m->crc[i] == c->protocol_crc;
		if (!ok)
			return (0);
	}
	if (m->has_build && (c == NULL || c->layout == HYP_CONNECT_V1 ||
	    c->build < m->build_min || c->build > m->build_max))
		return (0);
	if (m->nalpn > 0) {
		if ((v = hyp_session_alpn(s)) == NULL)
			return (0);
		for (ok = 0, i = 0; i < m->nalpn && !ok; i++)
			ok = strcmp(m->alpn[i], v) == 0;
		if (!ok)
			return (0);
	}
	if (m->nref > 0 && !refsrc_match(m, c))
		return (0);
	if (m->nuuid > 0) {
		if (c == NULL || !c->has_uuid)
			return (0);
		for (ok = 0, i = 0; i < m->nuuid && !ok; i++)
			ok = memcmp(m->uuid[i], c->uuid, 16) == 0;
		if (!ok)
			return (0);
	}
	if (m->nuser > 0) {
		if ((v = hyp_session_username(s)) == NULL)
			return (0);
		for (ok = 0, i = 0; i < m->nuser && !ok; i++)
			ok = strcasecmp(m->user[i], v) == 0;
		if (!ok)
			return (0);
	}
	if (m->ncidr > 0) {
		if ((sa = hyp_session_peer(s, &salen)) == NULL || salen == 0)
			return (0);
		for (ok = 0, i = 0; i < m->ncidr && !ok; i++)
			ok = hyp_cidr_match(&m->cidr[i], sa);
		if (!ok)
			return (0);
	}
	return (1);
}

/* Load of b: a fraction of max_players, or the raw count when unlimited. */
static double
load_of(const struct rt_backend *b)
{
	double	n = (double)b->players + (double)b->reserved;

	return (b->max_players > 0 ? n / (double)b->max_players : n);
}

/* Whether a is a better least-loaded choice than b (ties: weight). */
static int
less_loaded(const struct rt_backend *a, const struct rt_backend *b)
{
	double	la = load_of(a), lb = load_of(b);

	if (la != lb)
		return (la < lb);
	return (a->weight > b->weight);
}

/* Weighted rendezvous score of (key, id): -weight / ln(h), h in (0,1). */
double
rt_rendezvous_score(const uint8_t *key, size_t keylen, const char *id,
    uint32_t weight)
{
	uint8_t		buf[16 + 1 + RT_ID_MAX], out[crypto_shorthash_BYTES];
	uint64_t	x = 0;
	size_t		n = strlen(id), i;
	double		h;

	if (keylen > 16)
		keylen = 16;
	if (n > RT_ID_MAX)
		n = RT_ID_MAX;
	memcpy(buf, key, keylen);
	buf[keylen] = 0;
	memcpy(buf + keylen + 1, id, n);
	crypto_shorthash(out, buf, keylen + 1 + n, rt_hash_key);
	for (i = 0; i < 8; i++)
		x = (x << 8) | out[i];
	h = ((double)(x >> 11) + 0.5) / 9007199254740992.0;	/* 2^53 */
	return (-(double)weight / log(h));
}

/* The hashing key of a session: uuid, else the client address (/64). */
static size_t
hash_key(hyp_session_t *s, enum rt_strategy st, uint8_t key[16], int *by_ip)
{
	const struct hyp_connect	*c = hyp_session_connect(s);
	size_t				 n;
	int				 fam = 0;

	*by_ip = 0;
	if (st == RT_S_CONSISTENT && c != NULL && c->has_uuid) {
		memcpy(key, c->uuid, 16);
		return (16);
	}
	*by_ip = 1;
	if ((n = peer_addr(s, key, &fam)) == 16)
		n = 8;		/* IPv6: the /64 */
	return (n);
}

/* Pick a backend of pool pl by its strategy, or NULL. */
struct rt_backend *
rt_pick(struct router *r, struct rt_pool *pl, hyp_session_t *s, uint64_t now,
    int *full)
{
	struct rt_backend	*el[RT_MAX_BACKENDS], *best = NULL, *b;
	uint8_t			 ok[RT_MAX_BACKENDS], key[16];
	double			 sc, bsc = -1;
	uint64_t		 total = 0, x;
	size_t			 n = 0, i, k, keylen;
	uint32_t		 a, c;
	int			 by_ip;

	for (i = 0; i < pl->nb; i++) {
		ok[i] = (uint8_t)rt_eligible(r, pl->b[i], now, full);
		if (ok[i])
			el[n++] = pl->b[i];
	}
	if (n == 0)
		return (NULL);
	switch (pl->strategy) {
	case RT_S_ROUND_ROBIN:
	rr:
		for (k = 0; k < pl->nb; k++) {
			i = (pl->rr + k) % pl->nb;
			if (ok[i]) {
				pl->rr = (uint32_t)((i + 1) % pl->nb);
				return (pl->b[i]);
			}
		}
		return (NULL);
	case RT_S_WEIGHTED:
		/* nginx's smooth weighted round robin. */
		for (i = 0; i < n; i++) {
			el[i]->cw += el[i]->weight;
			total += el[i]->weight;
			if (best == NULL || el[i]->cw > best->cw)
				best = el[i];
		}
		best->cw -= (int64_t)total;
		return (best);
	case RT_S_RANDOM:
		for (i = 0; i < n; i++)
			total += el[i]->weight;
		x = r->rand(r, (uint32_t)total);
		for (i = 0; i < n; i++) {
			if (x < el[i]->weight)
				return (el[i]);
			x -= el[i]->weight;
		}
		return (el[n - 1]);
	case RT_S_LEAST_LOADED:
		for (i = 0; i < n; i++) {
			if (best == NULL || less_loaded(el[i], best))
				best = el[i];
		}
		return (best);
	case RT_S_P2C:
		if (n == 1)
			return (el[0]);
		a = r->rand(r, (uint32_t)n);
		c = r->rand(r, (uint32_t)n - 1);
		if (c >= a)
			c++;
		return (less_loaded(el[c], el[a]) ? el[c] : el[a]);
	case RT_S_CONSISTENT:
	case RT_S_IP_HASH:
		if ((keylen = hash_key(s, pl->strategy, key, &by_ip)) == 0)
			goto rr;
		for (i = 0; i < n; i++) {
			b = el[i];
			sc = rt_rendezvous_score(key, keylen, b->id, b->weight);
			if (best == NULL || sc > bsc) {
				best = b;
				bsc = sc;
			}
		}
		return (best);
	default:
		return (el[0]);
	}
}

/* Add the pools of the fallback chain from pool i, depth first, once each. */
static void
chain(const struct rt_table *t, int i, uint8_t *seen, int *order, size_t *n)
{
	size_t	k;

	if (seen[i] || *n >= RT_MAX_POOLS)
		return;
	seen[i] = 1;
	order[(*n)++] = i;
	for (k = 0; k < t->pools[i].nfallback; k++)
		chain(t, t->pools[i].fallback[k], seen, order, n);
}

/* Count a decision on a pool's series (or the "none" series). */
static void
count(struct router *r, struct rt_pool *pl, enum rt_result res)
{
	hyp_series_t	*s = pl != NULL ? pl->m_dec[res] : r->m.nopool[res];

	if (s != NULL)
		hyp_series_add(s, 1);
}

/* Format the pools tried ("lobby>overflow") into buf. */
static void
chain_str(const struct rt_table *t, const int *order, size_t n, char *buf,
    size_t len)
{
	size_t	i, at = 0;
	int	w;

	buf[0] = '\0';
	for (i = 0; i < n && at < len; i++) {
		w = snprintf(buf + at, len - at, "%s%s", i > 0 ? ">" : "",
		    t->pools[order[i]].id);
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

/* The route hook's work: match, pick, reserve, decide. */
enum hyp_hook_rc
rt_route_session(struct router *r, hyp_session_t *s)
{
	struct rt_table		*t = r->cur;
	struct rt_route		*ro = NULL;
	struct rt_pool		*pl, *first;
	struct rt_backend	*b = NULL;
	uint8_t			 seen[RT_MAX_POOLS];
	int			 order[RT_MAX_POOLS], pi, full = 0, by_ip = 0;
	uint8_t			 key[16];
	char			 tried[RT_MAX_POOLS * (RT_ID_MAX + 1) + 1];
	const char		*rname;
	uint64_t		 now = r->now(r);
	size_t			 n = 0, i;

	if (t == NULL)
		return (HYP_CONTINUE);
	for (i = 0; i < t->nroutes; i++) {
		if (rt_match_session(&t->routes[i].m, s)) {
			ro = &t->routes[i];
			break;
		}
	}
	if (ro == NULL && t->set.default_pool < 0) {
		hyp_session_add_reason(s, "route", "none");
		return (HYP_CONTINUE);
	}
	rname = ro != NULL ? ro->name : "default";
	hyp_session_add_reason(s, "route", "%s", rname);
	if (ro != NULL && ro->deny != NULL) {
		hyp_session_add_reason(s, "action", "deny");
		count(r, NULL, RT_R_DENY);
		if (hyp_session_decide(s, HYP_DECISION_DENY, NULL, ro->deny) != 0)
			return (HYP_ERROR);
		return (HYP_DENY);
	}
	pi = ro != NULL ? ro->pool : t->set.default_pool;
	memset(seen, 0, sizeof(seen));
	chain(t, pi, seen, order, &n);
	first = &t->pools[pi];
	for (i = 0; i < n; i++) {
		pl = &t->pools[order[i]];
		if ((b = rt_pick(r, pl, s, now, &full)) != NULL)
			break;
	}
	if (b == NULL) {
		chain_str(t, order, n, tried, sizeof(tried));
		hyp_session_add_reason(s, "pool", "%s", first->id);
		if (n > 1)
			hyp_session_add_reason(s, "fallback", "%s", tried);
		hyp_session_add_reason(s, "result", "%s", full ? "full" :
		    "unavailable");
		count(r, first, RT_R_DENY);
		if (hyp_session_decide(s, HYP_DECISION_DENY, NULL, full ?
		    t->set.full_message : t->set.unavail_message) != 0)
			return (HYP_ERROR);
		return (HYP_DENY);
	}
	pl = b->pool;
	hyp_session_add_reason(s, "pool", "%s", pl->id);
	if (pl->strategy == RT_S_CONSISTENT)
		(void)hash_key(s, pl->strategy, key, &by_ip);
	hyp_session_add_reason(s, "strategy", "%s%s",
	    rt_strategy_name(pl->strategy), by_ip ? "(ip)" : "");
	hyp_session_add_reason(s, "backend", "%s", b->id);
	if (b->max_players > 0)
		hyp_session_add_reason(s, "load", "%u/%u",
		    b->players + b->reserved, b->max_players);
	else
		hyp_session_add_reason(s, "load", "%u",
		    b->players + b->reserved);
	if (i > 0) {
		chain_str(t, order, i + 1, tried, sizeof(tried));
		hyp_session_add_reason(s, "fallback", "%s", tried);
		count(r, first, RT_R_FALLBACK);
	}
	if (hyp_session_decide(s, pl->mode == RT_MODE_FULL ?
	    HYP_DECISION_PROXY : HYP_DECISION_REFER, b->hb, NULL) != 0)
		return (HYP_ERROR);
	rt_resv_add(b, now, t->set.ttl_ms);
	rt_trial_begin(r, b, now);
	rt_metrics_load(b);
	count(r, pl, pl->mode == RT_MODE_FULL ? RT_R_PROXY : RT_R_REFER);
	return (HYP_DONE);
}
