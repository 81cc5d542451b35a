/* healthrec.h — the core's record of each instance's health, alerts and violations, kept
 * from the bus so frontends (vigilctl health, the report) can read it without a monitor API. */
#ifndef VIGIL_CORE_HEALTHREC_H
#define VIGIL_CORE_HEALTHREC_H

#include <vigil/sdk.h>

int healthrec_init(void);
void healthrec_fini(void);
/* vigil_host.health_foreach */
int healthrec_foreach(const char *target, vigil_health_fn fn, void *arg);

#endif
