/* ctl_events.c — the plugin's one bus subscription: recent-event rings, events [-f], waits. */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/vjson.h"

struct ctl_evstream {
	struct vigil_filter f; /* types only; all zero = every type */
	char *subject;         /* NULL = every subject */
};

static int is_lossy(uint32_t type)
{
	return type == VIGIL_EV_METRICS_SAMPLE || type == VIGIL_EV_METRIC_CUSTOM;
}

static void ring_push(const struct vigil_host *h, struct ctl_ring *r, const struct vigil_event *ev)
{
	const struct vigil_event *kept = h->event_ref(ev);

	if (r->count == r->cap) {
		h->event_unref(r->ev[r->head]);
		r->ev[r->head] = kept;
		r->head = (r->head + 1) % r->cap;
	} else {
		r->ev[(r->head + r->count) % r->cap] = kept;
		r->count++;
	}
}

static const struct vigil_event *ring_at(const struct ctl_ring *r, size_t i)
{
	return r->ev[(r->head + i) % r->cap];
}

static int stream_matches(const struct ctl_evstream *s, const struct vigil_event *ev)
{
	size_t i, any = 0;

	for (i = 0; i < VIGIL_EV_LIMIT / 64; i++)
		any |= s->f.types[i] != 0;
	if (any && (ev->type >= VIGIL_EV_LIMIT ||
	            !(s->f.types[ev->type / 64] & (uint64_t)1 << (ev->type % 64))))
		return 0;
	if (s->subject) {
		size_t n = strlen(s->subject);

		/* "web" also selects its instances "web.0", "web.1", ... */
		if (!ev->subject || strncmp(ev->subject, s->subject, n) != 0 ||
		    (ev->subject[n] != '\0' && ev->subject[n] != '.'))
			return 0;
	}
	return 1;
}

json_t *ctl_event_json(struct ctl *ctl, const struct vigil_event *ev)
{
	return vjson_event(ev, ctl->host->event_name(ev->type));
}

static unsigned char *event_frame(struct ctl *ctl, const struct vigil_event *ev, size_t *len)
{
	json_t *msg = json_pack("{s:o}", "stream", ctl_event_json(ctl, ev));
	unsigned char *frame;
	int err;

	if (!msg)
		return NULL;
	frame = proto_encode(msg, len, &err);
	json_decref(msg);
	return frame;
}

static void event_cb(const struct vigil_event *ev, void *arg)
{
	struct ctl *ctl = arg;
	struct ctl_conn *c, *next;
	unsigned char *frame = NULL;
	size_t len = 0;
	int lossy = is_lossy(ev->type);

	ring_push(ctl->host, lossy ? &ctl->lossy : &ctl->lossless, ev);
	for (c = ctl->conns; c; c = next) {
		next = c->next;
		if (c->busy == CTL_WAITING && ev->type >= VIGIL_EV_PROCESS_STARTING &&
		    ev->type <= VIGIL_EV_PROCESS_ADOPTED) {
			ctl_wait_event(c, ev);
		} else if (c->busy == CTL_PENDING) {
			ctl_pending_event(c, ev);
		} else if (c->busy == CTL_STREAM_EVENTS && stream_matches(c->evs, ev)) {
			/* a slow reader loses samples, never lifecycle events */
			if (lossy && ctl_out_pending(c) > CTL_OUT_HIGH) {
				c->skipped++;
			} else {
				if (!frame)
					frame = event_frame(ctl, ev, &len);
				if (frame)
					ctl_send_frame(c, frame, len);
			}
		}
		ctl_conn_reap(c);
	}
	free(frame);
}

void ctl_events_start(struct ctl *ctl)
{
	struct vigil_filter f;

	memset(&f, 0, sizeof f);
	ctl->sub = ctl->host->subscribe(ctl->self, &f, event_cb, ctl);
	if (!ctl->sub)
		ctl->host->log(ctl->self, VIGIL_LOG_WARN,
		               "cannot subscribe to events: events and waits will not work");
}

static void ring_clear(const struct vigil_host *h, struct ctl_ring *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		h->event_unref(ring_at(r, i));
	r->count = r->head = 0;
}

void ctl_events_fini(struct ctl *ctl)
{
	if (ctl->sub) {
		ctl->host->unsubscribe(ctl->sub);
		ctl->sub = NULL;
	}
	ring_clear(ctl->host, &ctl->lossless);
	ring_clear(ctl->host, &ctl->lossy);
}

void ctl_evstream_free(struct ctl_conn *c)
{
	if (!c->evs)
		return;
	free(c->evs->subject);
	free(c->evs);
	c->evs = NULL;
}

/* "process.exited", "process.*" → bits in s->f.types. */
static int add_type(struct ctl *ctl, struct ctl_evstream *s, const char *pat)
{
	size_t n = strlen(pat);
	int found = 0;
	uint32_t t;

	if (n >= 2 && strcmp(pat + n - 2, ".*") == 0)
		n -= 2;
	else if (ctl->host->event_type(pat) != 0)
		n = 0;
	for (t = 1; t < VIGIL_EV_LIMIT; t++) {
		const char *name = ctl->host->event_name(t);

		if (!name)
			continue;
		if (n ? strncmp(name, pat, n) == 0 && name[n] == '.' : strcmp(name, pat) == 0) {
			vigil_filter_add(&s->f, t);
			found = 1;
		}
	}
	return found ? 0 : -ENOENT;
}

static int parse_filter(struct ctl_conn *c, const json_t *req, struct ctl_evstream *s)
{
	const json_t *types = json_object_get(req, "types");
	const json_t *subject = json_object_get(req, "subject");
	const json_t *v;
	size_t i;

	if (json_is_string(types)) {
		if (add_type(c->ctl, s, json_string_value(types)) != 0)
			goto unknown;
	} else if (json_is_array(types)) {
		json_array_foreach(types, i, v)
		{
			if (!json_is_string(v)) {
				ctl_send_error(
				    c, PROTO_USAGE,
				    "bad request: \"types\" must be an array of strings");
				return -EINVAL;
			}
			if (add_type(c->ctl, s, json_string_value(v)) != 0) {
				types = v;
				goto unknown;
			}
		}
	} else if (types && !json_is_null(types)) {
		ctl_send_error(c, PROTO_USAGE,
		               "bad request: \"types\" must be an array of strings");
		return -EINVAL;
	}
	if (subject && !json_is_null(subject)) {
		if (!json_is_string(subject)) {
			ctl_send_error(c, PROTO_USAGE, "bad request: \"subject\" must be a string");
			return -EINVAL;
		}
		s->subject = strdup(json_string_value(subject));
		if (!s->subject)
			return -ENOMEM;
	}
	return 0;
unknown:
	ctl_send_error(c, PROTO_USAGE,
	               "unknown event type '%s' (expected a name like process.exited or a "
	               "prefix like process.*)",
	               json_string_value(types));
	return -EINVAL;
}

static json_t *event_json(struct ctl *ctl, const struct vigil_event *ev)
{
	return ctl_event_json(ctl, ev);
}

void ctl_cmd_events(struct ctl_conn *c, const json_t *req)
{
	struct ctl *ctl = c->ctl;
	struct ctl_evstream *s;
	size_t a = 0, b = 0;
	json_t *arr = NULL;
	int follow, replay = 1;

	if (ctl_opt_bool(c, req, "follow", &follow) != 0)
		return;
	if (json_object_get(req, "replay") && ctl_opt_bool(c, req, "replay", &replay) != 0)
		return;
	s = calloc(1, sizeof *s);
	if (!s) {
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return;
	}
	if (parse_filter(c, req, s) != 0) {
		free(s->subject);
		free(s);
		return;
	}
	if (!follow)
		arr = json_array();
	/* both rings are in seq order: merge them */
	while (replay && (a < ctl->lossless.count || b < ctl->lossy.count)) {
		const struct vigil_event *ev;

		if (b >= ctl->lossy.count ||
		    (a < ctl->lossless.count &&
		     ring_at(&ctl->lossless, a)->seq < ring_at(&ctl->lossy, b)->seq))
			ev = ring_at(&ctl->lossless, a++);
		else
			ev = ring_at(&ctl->lossy, b++);
		if (!stream_matches(s, ev))
			continue;
		if (follow)
			ctl_send(c, json_pack("{s:o}", "stream", event_json(ctl, ev)));
		else
			json_array_append_new(arr, event_json(ctl, ev));
	}
	if (!follow) {
		free(s->subject);
		free(s);
		ctl_send(c, json_pack("{s:b,s:o}", "ok", 1, "events", arr));
		return;
	}
	c->evs = s;
	c->busy = CTL_STREAM_EVENTS;
}
