/* frontend.h — frontends: control and export surfaces (socket, HTTP, report, notifications). */
#ifndef VIGIL_FRONTEND_H
#define VIGIL_FRONTEND_H

#include <vigil/vigil.h>

/* A frontend works entirely through the host table: it watches its own fds (listening
 * sockets), subscribes to the bus, and acts with proc_control. It needs no ops; the table
 * exists so that later minors can add optional callbacks. `ops` may be NULL. */
struct vigil_frontend_ops {
	uint32_t size;
};

#endif
