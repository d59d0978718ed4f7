/*
 * hyprox SDK umbrella header: include this in a plugin.
 *
 *   #include <hyprox/hyprox.h>
 *
 * Build with `pkg-config --cflags --libs hyprox-sdk` and install into
 * `pkg-config --variable=plugindir hyprox-sdk`.  See hyprox-plugin(3).
 */
#ifndef HYPROX_HYPROX_H
#define HYPROX_HYPROX_H

#include <hyprox/abi.h>
#include <hyprox/error.h>
#include <hyprox/plugin.h>
#include <hyprox/hook.h>
#include <hyprox/service.h>
#include <hyprox/session.h>
#include <hyprox/metrics.h>
#include <hyprox/secret.h>
#include <hyprox/codec.h>
#include <hyprox/connector.h>
#include <hyprox/referral.h>
#include <hyprox/router.h>
#include <hyprox/ticket.h>
#include <hyprox/util.h>

#endif /* HYPROX_HYPROX_H */
