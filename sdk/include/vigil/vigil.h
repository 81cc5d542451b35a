/* vigil.h — version numbers, ABI numbers and the attribute macros every SDK header uses. */
#ifndef VIGIL_VIGIL_H
#define VIGIL_VIGIL_H

#include <stddef.h>
#include <stdint.h>

#define VIGIL_VERSION_MAJOR 0
#define VIGIL_VERSION_MINOR 1
#define VIGIL_VERSION_PATCH 0
#define VIGIL_VERSION_STRING "0.1.0"

/* The plugin ABI. A plugin built for major M, minor m loads into a core with the same major M
 * and minor >= m. Appending a field to a public struct bumps the minor; anything else bumps the
 * major. See docs/abi.md. */
#define VIGIL_ABI_MAJOR 1
#define VIGIL_ABI_MINOR 0

#if defined(__GNUC__)
#define VIGIL_EXPORT __attribute__((visibility("default")))
#define VIGIL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define VIGIL_EXPORT
#define VIGIL_PRINTF(fmt, args)
#endif

#endif
