/* metrics.c: the metrics store (ring-buffered series, evaluations, events,
 * progress) behind one mutex, its JSON-lines log, and the follower that
 * reads a growing log back (cJSON parses one line at a time). */
#include "train/metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/json.h"

#define METRICS_EVENT_RING 4096

const char *const metrics_state_names[METRICS_NSTATES] = {
	"idle", "training", "paused", "evaluating", "done", "stopped", "failed",
};
const char *const metrics_event_names[METRICS_NEVENTS] = {
	"info", "set", "checkpoint", "nan", "eval", "early_stop", "state", "error",
};

struct series {
	char name[METRICS_NAME_MAX];
	struct metrics_point *ring; /* cap points; the latest at (total - 1) % cap */
	size_t total;
};

struct metrics {
	pthread_mutex_t mu;
	size_t cap;
	struct series series[METRICS_MAX_SERIES];
	size_t nseries;
	struct metrics_eval *evals;
	size_t nevals, evals_cap;
	struct metrics_event *events; /* METRICS_EVENT_RING, event k at k % RING */
	size_t nevents;
	struct metrics_progress progress;
	uint64_t version;
	double *plan_x, *plan_y;      /* the lr plan (metrics_plan_set) */
	size_t nplan;
	int64_t plan_at;
	uint64_t plan_serial;
	FILE *log;
	int refs; /* guarded by refs_mu */
};

static pthread_mutex_t refs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct metrics *current;

static void copy_name(char *dst, size_t size, const char *src)
{
	if (!src)
		src = "";
	snprintf(dst, size, "%s", src);
}

struct metrics *metrics_new(size_t ring)
{
	struct metrics *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->cap = ring ? ring : 16384;
	m->events = calloc(METRICS_EVENT_RING, sizeof *m->events);
	if (!m->events) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	m->refs = 1;
	m->progress.eta_s = NAN;
	m->progress.best = NAN;
	m->progress.best_step = -1;
	return m;
}

static void clear_locked(struct metrics *m)
{
	for (size_t i = 0; i < m->nseries; i++)
		free(m->series[i].ring);
	m->nseries = 0;
	for (size_t i = 0; i < m->nevals; i++)
		metrics_eval_fini(&m->evals[i]);
	m->nevals = 0;
	m->nevents = 0;
	free(m->plan_x);
	free(m->plan_y);
	m->plan_x = m->plan_y = NULL;
	m->nplan = 0;
	m->plan_serial++;
	memset(&m->progress, 0, sizeof m->progress);
	m->progress.eta_s = NAN;
	m->progress.best = NAN;
	m->progress.best_step = -1;
	m->version++;
}

void metrics_clear(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	clear_locked(m);
	pthread_mutex_unlock(&m->mu);
}

struct metrics *metrics_retain(struct metrics *m)
{
	pthread_mutex_lock(&refs_mu);
	m->refs++;
	pthread_mutex_unlock(&refs_mu);
	return m;
}

void metrics_current_set(struct metrics *m)
{
	if (m)
		metrics_retain(m);
	pthread_mutex_lock(&refs_mu);
	struct metrics *old = current;
	current = m;
	pthread_mutex_unlock(&refs_mu);
	metrics_free(old);
}

struct metrics *metrics_current_get(void)
{
	pthread_mutex_lock(&refs_mu);
	struct metrics *m = current;
	if (m)
		m->refs++;
	pthread_mutex_unlock(&refs_mu);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&refs_mu);
	int last = --m->refs == 0;
	pthread_mutex_unlock(&refs_mu);
	if (!last)
		return;
	clear_locked(m);
	free(m->evals);
	free(m->events);
	if (m->log)
		fclose(m->log);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void metrics_eval_fini(struct metrics_eval *e)
{
	if (!e)
		return;
	free(e->cls);
	e->cls = NULL;
	e->ncats = 0;
}

int metrics_log_open(struct metrics *m, const char *path)
{
	FILE *f = fopen(path, "a");
	if (!f)
		return det_error_set(DET_EIO, "can't open metrics log %s (%s)", path, strerror(errno));
	pthread_mutex_lock(&m->mu);
	if (m->log)
		fclose(m->log);
	m->log = f;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

void metrics_log_close(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	if (m->log)
		fclose(m->log);
	m->log = NULL;
	pthread_mutex_unlock(&m->mu);
}

/* ---- JSON writing ---- */

static void put_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

static void write_step(FILE *f, int64_t step, double epoch, double t, size_t n, const char *const *names,
	const double *values)
{
	fprintf(f, "{\"type\":\"step\",\"step\":%lld,\"epoch\":", (long long)step);
	put_num(f, epoch);
	fputs(",\"t\":", f);
	put_num(f, t);
	for (size_t i = 0; i < n; i++) {
		fputc(',', f);
		json_write_string(f, names[i]);
		fputc(':', f);
		put_num(f, values[i]);
	}
	fputs("}\n", f);
}

static void write_eval(FILE *f, const struct metrics_eval *e)
{
	fprintf(f, "{\"type\":\"eval\",\"step\":%lld,\"epoch\":", (long long)e->step);
	put_num(f, e->epoch);
	fputs(",\"t\":", f);
	put_num(f, e->t);
	fputs(",\"stats\":[", f);
	for (int i = 0; i < 12; i++) {
		if (i)
			fputc(',', f);
		put_num(f, e->stats[i]);
	}
	fputs("],\"classes\":[", f);
	for (int k = 0; k < e->ncats; k++) {
		const struct metrics_class_ap *c = &e->cls[k];
		fputs(k ? ",{\"name\":" : "{\"name\":", f);
		json_write_string(f, c->name);
		fputs(",\"ap\":", f);
		put_num(f, c->ap);
		fputs(",\"ap50\":", f);
		put_num(f, c->ap50);
		fputs(",\"ap75\":", f);
		put_num(f, c->ap75);
		fprintf(f, ",\"ngt\":%zu,\"ndet\":%zu}", c->ngt, c->ndet);
	}
	fputs("]}\n", f);
}

static void write_event(FILE *f, const struct metrics_event *e)
{
	fputs("{\"type\":\"event\",\"kind\":", f);
	json_write_string(f, metrics_event_names[e->kind]);
	fprintf(f, ",\"step\":%lld,\"epoch\":", (long long)e->step);
	put_num(f, e->epoch);
	fputs(",\"t\":", f);
	put_num(f, e->t);
	fputs(",\"key\":", f);
	json_write_string(f, e->key);
	fputs(",\"old\":", f);
	put_num(f, e->old_value);
	fputs(",\"new\":", f);
	put_num(f, e->new_value);
	fputs(",\"text\":", f);
	json_write_string(f, e->text);
	fputs("}\n", f);
}

static void write_state(FILE *f, const struct metrics_progress *p)
{
	fputs("{\"type\":\"state\",\"state\":", f);
	json_write_string(f, metrics_state_names[p->state]);
	fputs(",\"name\":", f);
	json_write_string(f, p->name);
	fprintf(f, ",\"step\":%lld,\"total_steps\":%lld,\"epoch\":", (long long)p->step, (long long)p->total_steps);
	put_num(f, p->epoch);
	fprintf(f, ",\"epochs\":%lld,\"t\":", (long long)p->epochs);
	put_num(f, p->elapsed_s);
	fputs(",\"eta\":", f);
	put_num(f, p->eta_s);
	fputs(",\"images_per_s\":", f);
	put_num(f, p->images_per_s);
	fputs(",\"budget\":", f);
	put_num(f, p->budget_s);
	fputs(",\"best\":", f);
	put_num(f, p->best);
	fprintf(f, ",\"best_step\":%lld,\"text\":", (long long)p->best_step);
	json_write_string(f, p->text);
	fputs("}\n", f);
}

static void write_plan(FILE *f, int64_t at, size_t n, const double *x, const double *y)
{
	fprintf(f, "{\"type\":\"plan\",\"step\":%lld,\"steps\":[", (long long)at);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		put_num(f, x[i]);
	}
	fputs("],\"lr\":[", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		put_num(f, y[i]);
	}
	fputs("]}\n", f);
}

static void log_done_locked(struct metrics *m)
{
	if (!m->log)
		return;
	if (fflush(m->log) != 0 || ferror(m->log)) {
		fclose(m->log);
		m->log = NULL;
		struct metrics_event *e = &m->events[m->nevents % METRICS_EVENT_RING];
		memset(e, 0, sizeof *e);
		e->kind = METRICS_EV_ERROR;
		e->old_value = e->new_value = NAN;
		snprintf(e->text, sizeof e->text, "metrics log write failed (%s); log closed", strerror(errno));
		m->nevents++;
	}
}

/* ---- writing into the store ---- */

static struct series *series_get_locked(struct metrics *m, const char *name, int create)
{
	for (size_t i = 0; i < m->nseries; i++)
		if (strncmp(m->series[i].name, name, METRICS_NAME_MAX - 1) == 0)
			return &m->series[i];
	if (!create || m->nseries == METRICS_MAX_SERIES)
		return NULL;
	struct series *s = &m->series[m->nseries];
	s->ring = malloc(m->cap * sizeof *s->ring);
	if (!s->ring)
		return NULL;
	copy_name(s->name, sizeof s->name, name);
	s->total = 0;
	m->nseries++;
	return s;
}

static void step_add_locked(struct metrics *m, int64_t step, double epoch, double t, size_t n,
	const char *const *names, const double *values)
{
	for (size_t i = 0; i < n; i++) {
		struct series *s = series_get_locked(m, names[i], 1);
		if (!s)
			continue;
		s->ring[s->total % m->cap] = (struct metrics_point){ step, epoch, t, values[i] };
		s->total++;
	}
	m->version++;
}

void metrics_step_add(struct metrics *m, int64_t step, double epoch, double t, size_t n,
	const char *const *names, const double *values)
{
	pthread_mutex_lock(&m->mu);
	step_add_locked(m, step, epoch, t, n, names, values);
	if (m->log) {
		write_step(m->log, step, epoch, t, n, names, values);
		log_done_locked(m);
	}
	pthread_mutex_unlock(&m->mu);
}

static int eval_copy(struct metrics_eval *dst, const struct metrics_eval *src)
{
	*dst = *src;
	dst->cls = NULL;
	if (src->ncats > 0) {
		dst->cls = malloc((size_t)src->ncats * sizeof *dst->cls);
		if (!dst->cls)
			return det_error_set(DET_ENOMEM, "out of memory copying an evaluation");
		memcpy(dst->cls, src->cls, (size_t)src->ncats * sizeof *dst->cls);
	}
	return 0;
}

static int eval_add_locked(struct metrics *m, const struct metrics_eval *e)
{
	if (m->nevals == m->evals_cap) {
		size_t cap = m->evals_cap ? 2 * m->evals_cap : 16;
		struct metrics_eval *p = realloc(m->evals, cap * sizeof *p);
		if (!p)
			return det_error_set(DET_ENOMEM, "out of memory adding an evaluation");
		m->evals = p;
		m->evals_cap = cap;
	}
	int rc = eval_copy(&m->evals[m->nevals], e);
	if (rc)
		return rc;
	m->nevals++;
	m->progress.nevals = m->nevals;
	m->version++;
	return 0;
}

int metrics_eval_add(struct metrics *m, const struct metrics_eval *e)
{
	pthread_mutex_lock(&m->mu);
	int rc = eval_add_locked(m, e);
	if (!rc && m->log) {
		write_eval(m->log, e);
		log_done_locked(m);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static void event_add_locked(struct metrics *m, const struct metrics_event *e)
{
	m->events[m->nevents % METRICS_EVENT_RING] = *e;
	m->nevents++;
	m->version++;
}

void metrics_event_add(struct metrics *m, int kind, int64_t step, double epoch, double t, const char *key,
	double old_value, double new_value, const char *fmt, ...)
{
	struct metrics_event e;
	memset(&e, 0, sizeof e);
	e.kind = kind >= 0 && kind < METRICS_NEVENTS ? kind : METRICS_EV_INFO;
	e.step = step;
	e.epoch = epoch;
	e.t = t;
	copy_name(e.key, sizeof e.key, key);
	e.old_value = old_value;
	e.new_value = new_value;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof e.text, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&m->mu);
	event_add_locked(m, &e);
	if (m->log) {
		write_event(m->log, &e);
		log_done_locked(m);
	}
	pthread_mutex_unlock(&m->mu);
}

void metrics_progress_set(struct metrics *m, const struct metrics_progress *p)
{
	pthread_mutex_lock(&m->mu);
	int changed = p->state != m->progress.state || strcmp(p->text, m->progress.text) != 0;
	size_t nevals = m->progress.nevals;
	m->progress = *p;
	m->progress.nevals = nevals;
	m->version++;
	if (changed && m->log) {
		write_state(m->log, &m->progress);
		log_done_locked(m);
	}
	pthread_mutex_unlock(&m->mu);
}

/* ---- reading ---- */

uint64_t metrics_version(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	uint64_t v = m->version;
	pthread_mutex_unlock(&m->mu);
	return v;
}

void metrics_progress_get(struct metrics *m, struct metrics_progress *out)
{
	pthread_mutex_lock(&m->mu);
	*out = m->progress;
	pthread_mutex_unlock(&m->mu);
}

size_t metrics_series_count(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	size_t n = m->nseries;
	pthread_mutex_unlock(&m->mu);
	return n;
}

int metrics_series_name(struct metrics *m, size_t i, char *name, size_t size)
{
	int rc = 0;
	pthread_mutex_lock(&m->mu);
	if (i < m->nseries)
		copy_name(name, size, m->series[i].name);
	else
		rc = det_error_set(DET_EINVAL, "no metrics series %zu (there are %zu)", i, m->nseries);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

size_t metrics_series_copy(struct metrics *m, const char *name, struct metrics_point *out, size_t max,
	size_t *total)
{
	size_t got = 0;
	pthread_mutex_lock(&m->mu);
	struct series *s = series_get_locked(m, name, 0);
	if (total)
		*total = s ? s->total : 0;
	if (s) {
		size_t have = s->total < m->cap ? s->total : m->cap;
		got = have < max ? have : max;
		for (size_t i = 0; i < got; i++)
			out[i] = s->ring[(s->total - got + i) % m->cap];
	}
	pthread_mutex_unlock(&m->mu);
	return got;
}

int metrics_series_last(struct metrics *m, const char *name, double *v)
{
	int rc = -1;
	pthread_mutex_lock(&m->mu);
	struct series *s = series_get_locked(m, name, 0);
	if (s && s->total) {
		*v = s->ring[(s->total - 1) % m->cap].value;
		rc = 0;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

size_t metrics_eval_count(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	size_t n = m->nevals;
	pthread_mutex_unlock(&m->mu);
	return n;
}

int metrics_eval_get(struct metrics *m, long i, struct metrics_eval *out)
{
	int rc;
	pthread_mutex_lock(&m->mu);
	long n = (long)m->nevals;
	if (i < 0)
		i += n;
	if (i < 0 || i >= n)
		rc = det_error_set(DET_EINVAL, "no evaluation %ld (there are %ld)", i, n);
	else
		rc = eval_copy(out, &m->evals[i]);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

size_t metrics_event_count(struct metrics *m)
{
	pthread_mutex_lock(&m->mu);
	size_t n = m->nevents;
	pthread_mutex_unlock(&m->mu);
	return n;
}

size_t metrics_events_copy(struct metrics *m, size_t first, struct metrics_event *out, size_t max)
{
	size_t got = 0;
	pthread_mutex_lock(&m->mu);
	size_t oldest = m->nevents > METRICS_EVENT_RING ? m->nevents - METRICS_EVENT_RING : 0;
	if (first < oldest)
		first = oldest;
	for (size_t k = first; k < m->nevents && got < max; k++)
		out[got++] = m->events[k % METRICS_EVENT_RING];
	pthread_mutex_unlock(&m->mu);
	return got;
}

static int plan_set_locked(struct metrics *m, int64_t at, size_t n, const double *steps, const double *lr)
{
	double *x = n ? malloc(n * sizeof *x) : NULL, *y = n ? malloc(n * sizeof *y) : NULL;

	if (n && (!x || !y)) {
		free(x);
		free(y);
		return det_error_set(DET_ENOMEM, "out of memory for an lr plan of %zu steps", n);
	}
	if (n) {
		memcpy(x, steps, n * sizeof *x);
		memcpy(y, lr, n * sizeof *y);
	}
	free(m->plan_x);
	free(m->plan_y);
	m->plan_x = x, m->plan_y = y, m->nplan = n, m->plan_at = at;
	m->plan_serial++;
	m->version++;
	return 0;
}

int metrics_plan_set(struct metrics *m, int64_t at, size_t n, const double *steps, const double *lr)
{
	pthread_mutex_lock(&m->mu);
	int rc = plan_set_locked(m, at, n, steps, lr);
	if (rc == 0 && m->log) {
		write_plan(m->log, at, n, steps, lr);
		log_done_locked(m);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

size_t metrics_plan_copy(struct metrics *m, double *steps, double *lr, size_t max, uint64_t *serial)
{
	pthread_mutex_lock(&m->mu);
	size_t n = m->nplan;
	for (size_t i = 0; i < n && i < max; i++) {
		if (steps)
			steps[i] = m->plan_x[i];
		if (lr)
			lr[i] = m->plan_y[i];
	}
	if (serial)
		*serial = m->plan_serial;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* ---- serialising ---- */

int metrics_write_jsonl(struct metrics *m, FILE *f)
{
	pthread_mutex_lock(&m->mu);
	/* steps: one line per step number seen in the rings, merged by position
	 * (series written together share their steps). Each series is written
	 * with its own lines to keep this simple and exact. */
	for (size_t i = 0; i < m->nseries; i++) {
		struct series *s = &m->series[i];
		size_t have = s->total < m->cap ? s->total : m->cap;
		const char *name = s->name;
		for (size_t k = 0; k < have; k++) {
			const struct metrics_point *p = &s->ring[(s->total - have + k) % m->cap];
			write_step(f, p->step, p->epoch, p->t, 1, &name, &p->value);
		}
	}
	for (size_t i = 0; i < m->nevals; i++)
		write_eval(f, &m->evals[i]);
	size_t oldest = m->nevents > METRICS_EVENT_RING ? m->nevents - METRICS_EVENT_RING : 0;
	for (size_t k = oldest; k < m->nevents; k++)
		write_event(f, &m->events[k % METRICS_EVENT_RING]);
	if (m->nplan)
		write_plan(f, m->plan_at, m->nplan, m->plan_x, m->plan_y);
	write_state(f, &m->progress);
	pthread_mutex_unlock(&m->mu);
	return ferror(f) ? det_error_set(DET_EIO, "can't write metrics (%s)", strerror(errno)) : 0;
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsNull(v))
		return NAN;
	return dflt;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static int read_obj_locked(struct metrics *m, const cJSON *o)
{
	const char *type = jstr(o, "type");
	int64_t step = (int64_t)jnum(o, "step", 0);
	double epoch = jnum(o, "epoch", NAN), t = jnum(o, "t", NAN);
	if (strcmp(type, "step") == 0) {
		const char *names[METRICS_MAX_SERIES];
		double values[METRICS_MAX_SERIES];
		size_t n = 0;
		for (const cJSON *c = o->child; c && n < METRICS_MAX_SERIES; c = c->next) {
			if (!c->string || !strcmp(c->string, "type") || !strcmp(c->string, "step") ||
			    !strcmp(c->string, "epoch") || !strcmp(c->string, "t"))
				continue;
			names[n] = c->string;
			values[n] = cJSON_IsNumber(c) ? c->valuedouble : NAN;
			n++;
		}
		step_add_locked(m, step, epoch, t, n, names, values);
	} else if (strcmp(type, "eval") == 0) {
		struct metrics_eval e;
		memset(&e, 0, sizeof e);
		e.step = step;
		e.epoch = epoch;
		e.t = t;
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stats");
		for (int i = 0; i < 12; i++) {
			const cJSON *v = cJSON_GetArrayItem(st, i);
			e.stats[i] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
		}
		const cJSON *cls = cJSON_GetObjectItemCaseSensitive(o, "classes");
		int nc = cJSON_IsArray(cls) ? cJSON_GetArraySize(cls) : 0;
		struct metrics_class_ap *ca = nc ? calloc((size_t)nc, sizeof *ca) : NULL;
		if (nc && !ca)
			return det_error_set(DET_ENOMEM, "out of memory reading an evaluation");
		int k = 0;
		for (const cJSON *c = cls ? cls->child : NULL; c && k < nc; c = c->next, k++) {
			copy_name(ca[k].name, sizeof ca[k].name, jstr(c, "name"));
			ca[k].ap = jnum(c, "ap", NAN);
			ca[k].ap50 = jnum(c, "ap50", NAN);
			ca[k].ap75 = jnum(c, "ap75", NAN);
			ca[k].ngt = (size_t)jnum(c, "ngt", 0);
			ca[k].ndet = (size_t)jnum(c, "ndet", 0);
		}
		e.ncats = nc;
		e.cls = ca;
		int rc = eval_add_locked(m, &e);
		free(ca);
		return rc;
	} else if (strcmp(type, "event") == 0) {
		struct metrics_event e;
		memset(&e, 0, sizeof e);
		int kind = lookup(metrics_event_names, METRICS_NEVENTS, jstr(o, "kind"));
		e.kind = kind < 0 ? METRICS_EV_INFO : kind;
		e.step = step;
		e.epoch = epoch;
		e.t = t;
		copy_name(e.key, sizeof e.key, jstr(o, "key"));
		e.old_value = jnum(o, "old", NAN);
		e.new_value = jnum(o, "new", NAN);
		copy_name(e.text, sizeof e.text, jstr(o, "text"));
		event_add_locked(m, &e);
	} else if (strcmp(type, "plan") == 0) {
		const cJSON *xs = cJSON_GetObjectItemCaseSensitive(o, "steps"), *ys = cJSON_GetObjectItemCaseSensitive(o, "lr");
		int n = cJSON_IsArray(xs) && cJSON_IsArray(ys) ? cJSON_GetArraySize(xs) : 0;
		if (n != (cJSON_IsArray(ys) ? cJSON_GetArraySize(ys) : 0))
			return det_error_set(DET_EFORMAT, "a plan record whose steps and lr differ in length");
		double *x = malloc((size_t)(n + 1) * sizeof *x), *y = malloc((size_t)(n + 1) * sizeof *y);
		int k = 0, rc;
		if (!x || !y) {
			free(x);
			free(y);
			return det_error_set(DET_ENOMEM, "out of memory reading an lr plan");
		}
		for (const cJSON *a = xs ? xs->child : NULL, *b = ys ? ys->child : NULL; a && b && k < n;
		     a = a->next, b = b->next, k++) {
			x[k] = cJSON_IsNumber(a) ? a->valuedouble : NAN;
			y[k] = cJSON_IsNumber(b) ? b->valuedouble : NAN;
		}
		rc = plan_set_locked(m, step, (size_t)k, x, y);
		free(x);
		free(y);
		return rc;
	} else if (strcmp(type, "state") == 0) {
		struct metrics_progress *p = &m->progress;
		int st = lookup(metrics_state_names, METRICS_NSTATES, jstr(o, "state"));
		p->state = st < 0 ? METRICS_IDLE : st;
		copy_name(p->name, sizeof p->name, jstr(o, "name"));
		p->step = step;
		p->total_steps = (int64_t)jnum(o, "total_steps", 0);
		p->epoch = epoch;
		p->epochs = (int64_t)jnum(o, "epochs", 0);
		p->elapsed_s = t;
		p->eta_s = jnum(o, "eta", NAN);
		p->images_per_s = jnum(o, "images_per_s", NAN);
		p->budget_s = jnum(o, "budget", 0);
		p->best = jnum(o, "best", NAN);
		p->best_step = (int64_t)jnum(o, "best_step", -1);
		copy_name(p->text, sizeof p->text, jstr(o, "text"));
		m->version++;
	}
	return 0;
}

int metrics_read_line(struct metrics *m, const char *line, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return det_error_set(DET_EFORMAT, "not a JSON object");
	}
	pthread_mutex_lock(&m->mu);
	int rc = read_obj_locked(m, o);
	pthread_mutex_unlock(&m->mu);
	cJSON_Delete(o);
	return rc;
}

int metrics_read_jsonl(struct metrics *m, const char *name, const char *buf, size_t len)
{
	size_t lineno = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - buf) : len;
		lineno++;
		size_t l = end - off;
		while (l && (buf[off + l - 1] == '\r' || buf[off + l - 1] == ' '))
			l--;
		if (l) {
			int rc = metrics_read_line(m, buf + off, l);
			if (rc == DET_EFORMAT)
				return det_error_set(rc, "%s:%zu: not a metrics record (a JSON object per line)", name,
					lineno);
			if (rc)
				return rc;
		}
		off = end + 1;
	}
	return 0;
}

/* ---- following a growing file ---- */

struct metrics_follower {
	char *path;
	struct metrics *m;
	long long offset;   /* bytes consumed (complete lines) */
	size_t lineno;
	char *buf;
	size_t cap;
};

struct metrics_follower *metrics_follow_new(const char *path, struct metrics *m)
{
	struct metrics_follower *f = calloc(1, sizeof *f);
	if (!f || !(f->path = strdup(path))) {
		free(f);
		det_error_set(DET_ENOMEM, "out of memory following %s", path);
		return NULL;
	}
	f->m = m;
	return f;
}

void metrics_follow_free(struct metrics_follower *f)
{
	if (!f)
		return;
	free(f->path);
	free(f->buf);
	free(f);
}

int metrics_follow_poll(struct metrics_follower *f)
{
	struct stat st;
	if (stat(f->path, &st) != 0)
		return 0;
	if ((long long)st.st_size < f->offset) {
		metrics_clear(f->m);
		f->offset = 0;
		f->lineno = 0;
	}
	if ((long long)st.st_size == f->offset)
		return 0;
	FILE *fp = fopen(f->path, "rb");
	if (!fp)
		return 0;
	size_t want = (size_t)(st.st_size - f->offset);
	if (want + 1 > f->cap) {
		char *b = realloc(f->buf, want + 1);
		if (!b) {
			fclose(fp);
			return det_error_set(DET_ENOMEM, "out of memory following %s", f->path);
		}
		f->buf = b;
		f->cap = want + 1;
	}
	size_t got = 0;
	if (fseeko(fp, (off_t)f->offset, SEEK_SET) == 0)
		got = fread(f->buf, 1, want, fp);
	fclose(fp);
	int lines = 0, rc = 0;
	size_t off = 0;
	while (off < got) {
		char *nl = memchr(f->buf + off, '\n', got - off);
		if (!nl)
			break; /* a partial line: wait for the rest */
		size_t end = (size_t)(nl - f->buf);
		f->lineno++;
		if (end > off) {
			int r = metrics_read_line(f->m, f->buf + off, end - off);
			if (r && !rc)
				rc = det_error_set(r, "%s:%zu: not a metrics record", f->path, f->lineno);
		}
		lines++;
		off = end + 1;
	}
	f->offset += (long long)off;
	return rc ? rc : lines;
}
