/*
 * hyprox error codes: 0 is success, failures are negative errno-style
 * values.  System errors are -errno; hyprox-specific ones start at -1000.
 */
#ifndef HYPROX_ERROR_H
#define HYPROX_ERROR_H

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HYP_OK		0
#define HYP_EINVAL	(-EINVAL)	/**< Invalid argument or value. */
#define HYP_ENOMEM	(-ENOMEM)	/**< Out of memory. */
#define HYP_ENOENT	(-ENOENT)	/**< No such thing (file, service, key). */
#define HYP_EEXIST	(-EEXIST)	/**< Already exists (duplicate name). */
#define HYP_EAGAIN	(-EAGAIN)	/**< Not finished yet; try again / in progress. */
#define HYP_ERANGE	(-ERANGE)	/**< Value out of its documented range. */
#define HYP_ENOSPC	(-ENOSPC)	/**< A bounded buffer, map or queue is full. */
#define HYP_EACCES	(-EACCES)	/**< Permission denied. */
#define HYP_ENOTSUP	(-ENOTSUP)	/**< Operation not supported. */
#define HYP_ETIMEDOUT	(-ETIMEDOUT)	/**< Timed out. */

#define HYP_ETRUNC	(-1000)	/**< Input ends before the structure does. */
#define HYP_EVARINT	(-1001)	/**< VarInt negative, overlong or over 5 bytes. */
#define HYP_EOFFSET	(-1002)	/**< Offset slot points outside the buffer. */
#define HYP_ETOOBIG	(-1003)	/**< A length exceeds the documented maximum. */
#define HYP_EMALFORMED	(-1004)	/**< Structurally invalid input. */
#define HYP_EPACKETID	(-1005)	/**< Unexpected packet id. */
#define HYP_EABI	(-1006)	/**< Plugin ABI mismatch. */
#define HYP_ECONFIG	(-1007)	/**< Configuration invalid. */
#define HYP_ESECRET	(-1008)	/**< Secret reference invalid or unreadable. */
#define HYP_EUTF8	(-1009)	/**< String is not valid UTF-8 / ASCII as required. */

/**
 * Describe an error code.
 * @param err  0, a negative HYP_E* code or -errno.
 * @return a static string; never NULL; the caller must not free it.
 */
const char *hyp_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* HYPROX_ERROR_H */
