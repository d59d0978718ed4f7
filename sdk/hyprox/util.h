/*
 * Utilities (libhyprox): the parsers every plugin's configuration needs,
 * so that durations and addresses mean the same everywhere.  Usable by
 * plugins and tools; nothing here allocates or keeps state.
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

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_UTIL_H */
