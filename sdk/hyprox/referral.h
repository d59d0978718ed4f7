/*
 * Service "referral" (provided by referral-hmac): produce the bytes that
 * go into ClientReferral.data for a session sent to a backend.  The
 * transport calls it after the route hook decided HYP_DECISION_REFER; with
 * no provider the referral carries no data.
 */
#ifndef HYPROX_REFERRAL_H
#define HYPROX_REFERRAL_H

#include <stddef.h>
#include <stdint.h>

#include <hyprox/session.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYP_REFERRAL_SERVICE	"referral"
#define HYP_REFERRAL_VERSION	1

/**
 * Argument of HYP_HOOK_REFERRAL (ABI 1.1): extension bytes for the ticket
 * about to be issued.  Handlers append TLV entries with
 * hyp_ticket_ext_add(buf, cap, &len, type, data, dlen) (ticket.h) — e.g. the
 * tracer adds HYP_TICKET_EXT_TRACE_ID — and return HYP_CONTINUE.  The buffer
 * belongs to the issuer and is valid only during the hook.
 */
struct hyp_referral_ext {
	uint8_t		*buf;
	size_t		 cap;
	size_t		 len;
	hyp_backend_t	*backend;	/**< Where the player is sent (borrowed). */
};

/** Version 1 of the referral service. */
struct hyp_referral_v1 {
	size_t	size;	/**< sizeof(struct hyp_referral_v1) of the provider. */
	/**
	 * Write the referral data for session s going to backend b into out
	 * (cap ≥ HYP_REFERRAL_DATA_MAX).  Synchronous and cheap.
	 * @return bytes written (0..cap), or a negative code: the transport
	 * then disconnects the player with a generic message and logs it.
	 */
	int	(*issue)(void *ctx, hyp_session_t *s, hyp_backend_t *b,
		    uint8_t *out, size_t cap);
};

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_REFERRAL_H */
