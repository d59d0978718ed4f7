/*
 * hyprox error strings.
 */
#include <string.h>

#include <hyprox/error.h>

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
	}
	if (err < 0 && err > -1000)
		return (strerror(-err));
	return ("Unknown error");
}
