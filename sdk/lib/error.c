/*
 * hyprox error strings.
 */
#include <string.h>

#include <hyprox/error.h>
#include <hyprox/ticket.h>

#include "lib.h"

/* Describe an error code as a static string. */
HYP_API const char *
hyp_strerror(int err)
{
	switch (err) {
	case HYP_OK:
		return ("Success");
	case HYP_EINVAL:
		return ("Invalid argument or value");
	case HYP_ENOMEM:
		return ("Out of memory");
	case HYP_ENOENT:
		return ("No such file, service or key");
	case HYP_EEXIST:
		return ("Already exists");
	case HYP_EAGAIN:
		return ("Not finished yet, try again");
	case HYP_ERANGE:
		return ("Value out of its documented range");
	case HYP_ENOSPC:
		return ("Buffer, map or queue is full");
	case HYP_EACCES:
		return ("Permission denied");
	case HYP_ENOTSUP:
		return ("Operation not supported");
	case HYP_ETIMEDOUT:
		return ("Timed out");
	case HYP_ETRUNC:
		return ("Input ends before the structure does");
	case HYP_EVARINT:
		return ("VarInt negative, overlong or over 5 bytes");
	case HYP_EOFFSET:
		return ("Offset slot points outside the buffer");
	case HYP_ETOOBIG:
		return ("Length exceeds the documented maximum");
	case HYP_EMALFORMED:
		return ("Structurally invalid input");
	case HYP_EPACKETID:
		return ("Unexpected packet id");
	case HYP_EABI:
		return ("Plugin ABI mismatch");
	case HYP_ECONFIG:
		return ("Configuration invalid");
	case HYP_ESECRET:
		return ("Secret reference invalid or unreadable");
	case HYP_EUTF8:
		return ("String is not valid UTF-8 or ASCII as required");
	case HYP_ETICKET_FORMAT:
		return ("Ticket malformed or truncated");
	case HYP_ETICKET_MAGIC:
		return ("Not a hyprox ticket (bad magic)");
	case HYP_ETICKET_VERSION:
		return ("Unsupported ticket version");
	case HYP_ETICKET_KEY_UNKNOWN:
		return ("Ticket key id not in the keyring");
	case HYP_ETICKET_KEY_RETIRED:
		return ("Ticket key outside its validity window");
	case HYP_ETICKET_MAC:
		return ("Ticket signature mismatch (tampered or wrong key)");
	case HYP_ETICKET_NOT_YET:
		return ("Ticket issued in the future beyond the clock skew");
	case HYP_ETICKET_EXPIRED:
		return ("Ticket expired");
	case HYP_ETICKET_SCOPE:
		return ("Ticket scope does not include this backend or pool");
	case HYP_ETICKET_TARGET:
		return ("Ticket issued for another backend");
	case HYP_ETICKET_UUID:
		return ("Ticket issued for another player");
	case HYP_ETICKET_ADDRESS:
		return ("Ticket bound to another client address");
	case HYP_ETICKET_REPLAYED:
		return ("Ticket already used (nonce replayed)");
	case HYP_ETICKET_REPLAY_FULL:
		return ("Replay cache full: ticket refused");
	case HYP_ETICKET_KEY_SHORT:
		return ("HMAC key shorter than 32 bytes");
	case HYP_ETICKET_TOO_BIG:
		return ("Ticket would exceed 4096 bytes");
	}
	if (err < 0 && err > -1000)
		return (strerror(-err));
	return ("Unknown error");
}
