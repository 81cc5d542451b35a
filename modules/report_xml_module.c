/* report_xml_module.c — report_xml.so: plugins/common/report_xml.c (libxml2) behind a table. */
#include "report.h"
#include "report_xml.h"

#include <vigil/vigil.h>

static const struct report_xml_module table = {
    .head = {.name = REPORT_XML_MODULE,
             .version = VIGIL_VERSION_STRING,
             .iface = REPORT_XML_IFACE,
             .size = sizeof table},
    .xml = report_xml,
};

VIGIL_MODULE_DEFINE(table)
