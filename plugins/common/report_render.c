/* report_render.c — the report written in either format, and the one call (collect + write). */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Apart from report.c so the XML writer (report_xml.c, libxml2) can be built without the JSON
 * writer and the collector (modules/report_xml.so), and a frontend without the XML writer
 * (frontend_ctl, which opens that module instead). */

char *report_write(const struct report *r, enum report_format format, int compact, size_t *len)
{
	json_t *j;
	char *out;

	if (format == REPORT_XML)
		return report_xml(r, compact, len);
	if (format != REPORT_JSON)
		return NULL;
	j = report_json(r);
	if (!j)
		return NULL;
	out = json_dumps(j, (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (out)
		*len = strlen(out);
	return out;
}

char *report_render(const struct vigil_host *host, const struct report_options *opt, size_t *len,
                    int *err)
{
	struct report *r;
	char *out;

	if (opt && opt->format != REPORT_XML && opt->format != REPORT_JSON) {
		*err = -EINVAL;
		return NULL;
	}
	r = report_collect(host, opt, err);
	if (!r)
		return NULL;
	out = report_write(r, opt ? opt->format : REPORT_XML, opt ? opt->compact : 0, len);
	report_free(r);
	if (!out)
		*err = -ENOMEM;
	return out;
}
