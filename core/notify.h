/* notify.h — the daemon end of the systemd notify protocol: one socket, checked senders. */
#ifndef VIGIL_CORE_NOTIFY_H
#define VIGIL_CORE_NOTIFY_H

#include <stddef.h>

/* Remembers where the socket lives (${state_dir}/notify.sock); opens nothing yet. */
void notify_setup(const char *state_dir);

/* The NOTIFY_SOCKET value for a child, binding the socket on first use. `abstract` asks for
 * the abstract-namespace twin ("@vigil-notify-..."), for a child running as another user that
 * cannot reach state_dir. NULL (logged) when the socket cannot be bound. */
const char *notify_address(int abstract);

/* Closes the sockets (the file is removed). Datagrams whose sender belongs to an instance are
 * split into KEY=VALUE lines, each handed to probe_notify(); all others are ignored. */
void notify_fini(void);

#endif
