/* report_xml.h — the table between frontend_ctl and report_xml.so (the XML writer, libxml2). */
#ifndef VIGIL_MODULES_REPORT_XML_H
#define VIGIL_MODULES_REPORT_XML_H

#include <stddef.h>
#include <stdint.h>

#include "modload.h"

#define REPORT_XML_MODULE "report_xml"
#define REPORT_XML_IFACE 1

/* plugins/common/report.h: the module and the frontend are built from the same sources
 * (the head's version says so), so the model has the same layout on both sides. */
struct report;

struct report_xml_module {
	struct vigil_module_head head;
	/* report_xml() of plugins/common/report.h: the document, malloc'd (free() it),
	 * NUL-terminated, *len bytes; NULL on ENOMEM. Touches only its arguments. */
	char *(*xml)(const struct report *r, int compact, size_t *len);
};

#endif
