/*
 * libhyprox private header: shared by the sources in sdk/lib, never installed.
 */
#ifndef HYPROX_LIB_H
#define HYPROX_LIB_H

/*
 * libhyprox is built with -fvisibility=hidden; every public (hyp_*)
 * function definition carries HYP_API so that it is exported.
 */
#define HYP_API	__attribute__((visibility("default")))

#endif /* HYPROX_LIB_H */
