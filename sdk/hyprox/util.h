/*
 * Utilities (libhyprox): the parsers every plugin's configuration needs,
 * so that durations, addresses and prefixes mean the same everywhere.
 * Usable by plugins and tools; nothing here allocates or keeps state.
 */
#ifndef HYPROX_UTIL_H
#define HYPROX_UTIL_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Parse a duration: decimal digits and an optional unit, "ms", "s", "m"
 * or "h"; a bare number is seconds ("500ms", "10s", "2m", "1h", "30").
 * Nothing else is accepted: no sign, space, fraction or other unit.
 * The caller owns s and ms; *ms is written only on success.
 * @param max_ms  the largest value accepted, in milliseconds (values above
 *                UINT32_MAX are taken as UINT32_MAX).
 * @return 0 with *ms set; HYP_EINVAL when s is NULL or not of that form
 * (whatever its size); HYP_ERANGE when it is above max_ms.
 */
int	hyp_duration_parse(const char *s, uint64_t max_ms, uint32_t *ms);

/**
 * Parse a numeric address and an optional port: "a.b.c.d", "a.b.c.d:port",
 * "[v6]", "[v6]:port" or a bare IPv6 address (which never has a port).
 * The port is 1 to 5 digits, 0 to 65535.  Names are not resolved; IPv6
 * zones ("%eth0") and IPv4 in brackets are refused.
 * The caller owns s and the outputs; they are written only on success.
 * @param default_port  the port when s has none, or -1 when s must have
 *                      one.
 * @param out  receives a sockaddr_in or sockaddr_in6 (the rest zeroed).
 * @param len  receives its length; may be NULL.
 * @return 0, or HYP_EINVAL.
 */
int	hyp_addr_parse(const char *s, int default_port,
	    struct sockaddr_storage *out, socklen_t *len);

/**
 * The numeric host (no brackets) and the port of an AF_INET or AF_INET6
 * address, as from hyp_addr_parse() or getsockname(2).  The caller owns
 * every buffer.
 * @param host  receives the NUL-terminated host; may be NULL (hostlen 0).
 * @param port  receives the port; may be NULL.
 * @return 0; HYP_EINVAL for another family; HYP_ENOSPC when host is too
 * small (INET6_ADDRSTRLEN is always enough).
 */
int	hyp_addr_numeric(const struct sockaddr *sa, char *host, size_t hostlen,
	    uint16_t *port);

/**
 * An address prefix, as from hyp_cidr_parse().  IPv4 is kept as the
 * IPv4-mapped IPv6 address ::ffff:a.b.c.d, so an IPv4 /n has 96 + n bits.
 */
struct hyp_cidr {
	/** AF_INET (an IPv4 or IPv4-mapped prefix) or AF_INET6. */
	int		family;
	uint8_t		addr[16];	/**< the address, IPv4 mapped */
	unsigned	bits;		/**< over addr, at most 128 */
};

/**
 * Parse "a.b.c.d", "a.b.c.d/n" (n 0 to 32), "v6" or "v6/n" (n 0 to 128),
 * n having 1 to 3 digits; a bare address is a single host.  Bits past the
 * prefix may be set.  An IPv6 prefix inside ::ffff:0:0/96 is the IPv4
 * prefix it maps ("::ffff:10.0.0.0/104" is 10.0.0.0/8).  Names, zones and
 * brackets are refused.  The caller owns s and out; *out is written only on
 * success.
 * @return 0, or HYP_EINVAL.
 */
int	hyp_cidr_parse(const char *s, struct hyp_cidr *out);

/**
 * Whether sa, an AF_INET or AF_INET6 address (complete for its family),
 * lies inside c.  An IPv4-mapped IPv6 address matches IPv4 prefixes as
 * its IPv4 address does, and no other IPv6 prefix ("::/0" matches every
 * IPv6 address but no IPv4 one).  The caller owns c and sa.
 * @return 1 or 0 (also when sa is NULL or of another family).
 */
int	hyp_cidr_match(const struct hyp_cidr *c, const struct sockaddr *sa);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_UTIL_H */
