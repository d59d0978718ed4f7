/*
 * The one core object: the event base, the configuration and the plugins.
 */
#include "config.h"

#include "hyproxd.h"

/* Set by main() (or a test) before any plugin runs. */
struct hypd_core *hypd;
