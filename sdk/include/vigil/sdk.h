/* sdk.h — includes every public header of the vigil plugin SDK. */
#ifndef VIGIL_SDK_H
#define VIGIL_SDK_H

#include <vigil/vigil.h>
#include <vigil/proc.h>
#include <vigil/event.h>
#include <vigil/config.h>
#include <vigil/host.h>
#include <vigil/plugin.h>
#include <vigil/policy.h>
#include <vigil/store.h>
#include <vigil/monitor.h>
#include <vigil/frontend.h>

#endif
