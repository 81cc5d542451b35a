/* abi_layout.c — prints the layout of every public SDK struct and enum; checks it against
 * tests/abi. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/sdk.h>

/*
 * The table has one line per fact, e.g.
 *
 *   struct vigil_host 256 grow        sizeof; "grow" when appending fields is a minor change
 *   field vigil_host.log 16 8         offsetof and sizeof of a member
 *   enum VIGIL_EV_PROCESS_EXITED 14   the value of an enum constant or ABI macro
 *
 * A struct may grow ("grow") when whoever reads it learns its real size at run time: a `size`
 * member, the descriptor's struct_size, or the event header's size. The others are frozen:
 * vigil_event is embedded in every event, vigil_abi_header is the handshake itself, arrays of
 * vigil_config_key have the plugin's stride, and vigil_filter and vigil_decision carry no size.
 */

struct row {
	char kind[8];
	char name[96];
	long a, b; /* struct: size, grow flag; field: offset, size; enum: value, unused */
};

static struct row rows[1024];
static size_t nrows;

static void add(const char *kind, const char *name, long a, long b)
{
	if (nrows == sizeof rows / sizeof rows[0]) {
		fprintf(stderr, "abi_layout: too many rows\n");
		exit(2);
	}
	snprintf(rows[nrows].kind, sizeof rows[nrows].kind, "%s", kind);
	snprintf(rows[nrows].name, sizeof rows[nrows].name, "%s", name);
	rows[nrows].a = a;
	rows[nrows].b = b;
	nrows++;
}

#define STRUCT(T, grow) add("struct", #T, (long)sizeof(struct T), grow)
#define FIELD(T, f)                                                                                \
	add("field", #T "." #f, (long)offsetof(struct T, f), (long)sizeof(((struct T *)0)->f))
#define ENUM(c) add("enum", #c, (long)(c), 0)
#define GROW 1
#define FROZEN 0

static void collect(void)
{
	/* proc.h */
	ENUM(VIGIL_PROC_STOPPED);
	ENUM(VIGIL_PROC_STARTING);
	ENUM(VIGIL_PROC_RUNNING);
	ENUM(VIGIL_PROC_STOPPING);
	ENUM(VIGIL_PROC_EXITED);
	ENUM(VIGIL_PROC_BACKOFF);
	ENUM(VIGIL_PROC_FATAL);
	ENUM(VIGIL_PROC_ADOPTED);
	ENUM(VIGIL_PROC_UNKNOWN);
	ENUM(VIGIL_PROC_STATE_COUNT);
	ENUM(VIGIL_TASK_QUEUED);
	ENUM(VIGIL_TASK_STARTING);
	ENUM(VIGIL_TASK_RUNNING);
	ENUM(VIGIL_TASK_STOPPING);
	ENUM(VIGIL_TASK_SUCCEEDED);
	ENUM(VIGIL_TASK_FAILED);
	ENUM(VIGIL_TASK_TIMEOUT);
	ENUM(VIGIL_TASK_KILLED);
	ENUM(VIGIL_TASK_CANCELLED);
	ENUM(VIGIL_TASK_STATE_COUNT);
	ENUM(VIGIL_PRIO_LOW);
	ENUM(VIGIL_PRIO_NORMAL);
	ENUM(VIGIL_PRIO_HIGH);
	ENUM(VIGIL_PRIO_CRITICAL);
	ENUM(VIGIL_PRIO_COUNT);
	ENUM(VIGIL_ACT_START);
	ENUM(VIGIL_ACT_STOP);
	ENUM(VIGIL_ACT_RESTART);
	ENUM(VIGIL_ACT_SIGNAL);

	STRUCT(vigil_proc_info, GROW);
	FIELD(vigil_proc_info, size);
	FIELD(vigil_proc_info, state);
	FIELD(vigil_proc_info, name);
	FIELD(vigil_proc_info, program);
	FIELD(vigil_proc_info, command);
	FIELD(vigil_proc_info, instance);
	FIELD(vigil_proc_info, pid);
	FIELD(vigil_proc_info, priority);
	FIELD(vigil_proc_info, started_at_ms);
	FIELD(vigil_proc_info, state_since_ms);
	FIELD(vigil_proc_info, restarts);
	FIELD(vigil_proc_info, exit_code);
	FIELD(vigil_proc_info, exit_signal);
	FIELD(vigil_proc_info, last_reason);
	FIELD(vigil_proc_info, tags);
	FIELD(vigil_proc_info, stdout_log);
	FIELD(vigil_proc_info, stderr_log);
	FIELD(vigil_proc_info, cpu_pct);
	FIELD(vigil_proc_info, rss_bytes);
	FIELD(vigil_proc_info, health);
	FIELD(vigil_proc_info, limit_memory);
	FIELD(vigil_proc_info, limit_cpu);
	FIELD(vigil_proc_info, limit_runtime_ms);
	FIELD(vigil_proc_info, limit_nofile);
	FIELD(vigil_proc_info, limit_nproc);

	/* event.h */
	ENUM(VIGIL_EV_SUPERVISOR_STARTED);
	ENUM(VIGIL_EV_SUPERVISOR_STOPPING);
	ENUM(VIGIL_EV_CONFIG_RELOADED);
	ENUM(VIGIL_EV_CONFIG_REJECTED);
	ENUM(VIGIL_EV_PROCESS_STARTING);
	ENUM(VIGIL_EV_PROCESS_RUNNING);
	ENUM(VIGIL_EV_PROCESS_READY);
	ENUM(VIGIL_EV_PROCESS_STOPPING);
	ENUM(VIGIL_EV_PROCESS_EXITED);
	ENUM(VIGIL_EV_PROCESS_BACKOFF);
	ENUM(VIGIL_EV_PROCESS_FATAL);
	ENUM(VIGIL_EV_PROCESS_ADOPTED);
	ENUM(VIGIL_EV_TASK_QUEUED);
	ENUM(VIGIL_EV_TASK_FINISHED);
	ENUM(VIGIL_EV_METRICS_SAMPLE);
	ENUM(VIGIL_EV_HEALTH_CHANGED);
	ENUM(VIGIL_EV_LIMIT_VIOLATED);
	ENUM(VIGIL_EV_ALERT_RAISED);
	ENUM(VIGIL_EV_ALERT_CLEARED);
	ENUM(VIGIL_EV_METRIC_CUSTOM);
	ENUM(VIGIL_EV_STORE_FAILED);
	ENUM(VIGIL_EV_LIMIT);
	ENUM(VIGIL_EVC_LOSSLESS);
	ENUM(VIGIL_EVC_LOSSY);

	STRUCT(vigil_event, FROZEN);
	FIELD(vigil_event, type);
	FIELD(vigil_event, size);
	FIELD(vigil_event, seq);
	FIELD(vigil_event, time_us);
	FIELD(vigil_event, subject);

	STRUCT(vigil_ev_supervisor_started, GROW);
	FIELD(vigil_ev_supervisor_started, hdr);
	FIELD(vigil_ev_supervisor_started, pid);
	FIELD(vigil_ev_supervisor_started, version);
	FIELD(vigil_ev_supervisor_started, config_file);
	FIELD(vigil_ev_supervisor_started, programs);

	STRUCT(vigil_ev_supervisor_stopping, GROW);
	FIELD(vigil_ev_supervisor_stopping, hdr);
	FIELD(vigil_ev_supervisor_stopping, reason);
	FIELD(vigil_ev_supervisor_stopping, timeout_ms);

	STRUCT(vigil_ev_config_reloaded, GROW);
	FIELD(vigil_ev_config_reloaded, hdr);
	FIELD(vigil_ev_config_reloaded, config_file);
	FIELD(vigil_ev_config_reloaded, added);
	FIELD(vigil_ev_config_reloaded, removed);
	FIELD(vigil_ev_config_reloaded, changed);
	FIELD(vigil_ev_config_reloaded, unchanged);

	STRUCT(vigil_ev_config_rejected, GROW);
	FIELD(vigil_ev_config_rejected, hdr);
	FIELD(vigil_ev_config_rejected, config_file);
	FIELD(vigil_ev_config_rejected, error);

	STRUCT(vigil_ev_process_starting, GROW);
	FIELD(vigil_ev_process_starting, hdr);
	FIELD(vigil_ev_process_starting, program);
	FIELD(vigil_ev_process_starting, command);
	FIELD(vigil_ev_process_starting, attempt);

	STRUCT(vigil_ev_process_running, GROW);
	FIELD(vigil_ev_process_running, hdr);
	FIELD(vigil_ev_process_running, program);
	FIELD(vigil_ev_process_running, pid);
	FIELD(vigil_ev_process_running, spawn_us);

	STRUCT(vigil_ev_process_ready, GROW);
	FIELD(vigil_ev_process_ready, hdr);
	FIELD(vigil_ev_process_ready, program);
	FIELD(vigil_ev_process_ready, pid);
	FIELD(vigil_ev_process_ready, how);
	FIELD(vigil_ev_process_ready, ready_ms);

	STRUCT(vigil_ev_process_stopping, GROW);
	FIELD(vigil_ev_process_stopping, hdr);
	FIELD(vigil_ev_process_stopping, program);
	FIELD(vigil_ev_process_stopping, pid);
	FIELD(vigil_ev_process_stopping, signal);
	FIELD(vigil_ev_process_stopping, reason);

	STRUCT(vigil_ev_process_exited, GROW);
	FIELD(vigil_ev_process_exited, hdr);
	FIELD(vigil_ev_process_exited, program);
	FIELD(vigil_ev_process_exited, pid);
	FIELD(vigil_ev_process_exited, exit_code);
	FIELD(vigil_ev_process_exited, signal);
	FIELD(vigil_ev_process_exited, status_known);
	FIELD(vigil_ev_process_exited, expected);
	FIELD(vigil_ev_process_exited, runtime_ms);
	FIELD(vigil_ev_process_exited, reason);
	FIELD(vigil_ev_process_exited, error);
	FIELD(vigil_ev_process_exited, cpu_s);
	FIELD(vigil_ev_process_exited, peak_rss_bytes);

	STRUCT(vigil_ev_process_backoff, GROW);
	FIELD(vigil_ev_process_backoff, hdr);
	FIELD(vigil_ev_process_backoff, program);
	FIELD(vigil_ev_process_backoff, delay_ms);
	FIELD(vigil_ev_process_backoff, restarts);
	FIELD(vigil_ev_process_backoff, policy);

	STRUCT(vigil_ev_process_fatal, GROW);
	FIELD(vigil_ev_process_fatal, hdr);
	FIELD(vigil_ev_process_fatal, program);
	FIELD(vigil_ev_process_fatal, restarts);
	FIELD(vigil_ev_process_fatal, reason);

	STRUCT(vigil_ev_process_adopted, GROW);
	FIELD(vigil_ev_process_adopted, hdr);
	FIELD(vigil_ev_process_adopted, program);
	FIELD(vigil_ev_process_adopted, pid);
	FIELD(vigil_ev_process_adopted, started_at_ms);

	STRUCT(vigil_ev_task_queued, GROW);
	FIELD(vigil_ev_task_queued, hdr);
	FIELD(vigil_ev_task_queued, pool);
	FIELD(vigil_ev_task_queued, name);
	FIELD(vigil_ev_task_queued, type);
	FIELD(vigil_ev_task_queued, priority);
	FIELD(vigil_ev_task_queued, position);

	STRUCT(vigil_ev_task_finished, GROW);
	FIELD(vigil_ev_task_finished, hdr);
	FIELD(vigil_ev_task_finished, pool);
	FIELD(vigil_ev_task_finished, name);
	FIELD(vigil_ev_task_finished, type);
	FIELD(vigil_ev_task_finished, state);
	FIELD(vigil_ev_task_finished, exit_code);
	FIELD(vigil_ev_task_finished, signal);
	FIELD(vigil_ev_task_finished, duration_ms);
	FIELD(vigil_ev_task_finished, cpu_s);
	FIELD(vigil_ev_task_finished, peak_rss_bytes);

	STRUCT(vigil_ev_metrics_sample, GROW);
	FIELD(vigil_ev_metrics_sample, hdr);
	FIELD(vigil_ev_metrics_sample, pid);
	FIELD(vigil_ev_metrics_sample, cpu_pct);
	FIELD(vigil_ev_metrics_sample, rss_bytes);
	FIELD(vigil_ev_metrics_sample, vms_bytes);
	FIELD(vigil_ev_metrics_sample, threads);
	FIELD(vigil_ev_metrics_sample, fds);
	FIELD(vigil_ev_metrics_sample, read_bytes);
	FIELD(vigil_ev_metrics_sample, write_bytes);
	FIELD(vigil_ev_metrics_sample, ctx_switches);
	FIELD(vigil_ev_metrics_sample, uptime_ms);
	FIELD(vigil_ev_metrics_sample, tree_procs);
	FIELD(vigil_ev_metrics_sample, tree_cpu_pct);
	FIELD(vigil_ev_metrics_sample, tree_rss_bytes);

	STRUCT(vigil_ev_health_changed, GROW);
	FIELD(vigil_ev_health_changed, hdr);
	FIELD(vigil_ev_health_changed, score);
	FIELD(vigil_ev_health_changed, previous);
	FIELD(vigil_ev_health_changed, level);
	FIELD(vigil_ev_health_changed, trend);

	STRUCT(vigil_ev_limit_violated, GROW);
	FIELD(vigil_ev_limit_violated, hdr);
	FIELD(vigil_ev_limit_violated, limit);
	FIELD(vigil_ev_limit_violated, value);
	FIELD(vigil_ev_limit_violated, max);
	FIELD(vigil_ev_limit_violated, action);
	FIELD(vigil_ev_limit_violated, count);

	STRUCT(vigil_ev_alert, GROW);
	FIELD(vigil_ev_alert, hdr);
	FIELD(vigil_ev_alert, alert);
	FIELD(vigil_ev_alert, severity);
	FIELD(vigil_ev_alert, message);

	STRUCT(vigil_ev_metric_custom, GROW);
	FIELD(vigil_ev_metric_custom, hdr);
	FIELD(vigil_ev_metric_custom, metric);
	FIELD(vigil_ev_metric_custom, value);
	FIELD(vigil_ev_metric_custom, unit);

	STRUCT(vigil_ev_store_failed, GROW);
	FIELD(vigil_ev_store_failed, hdr);
	FIELD(vigil_ev_store_failed, error);
	FIELD(vigil_ev_store_failed, message);
	FIELD(vigil_ev_store_failed, pending);

	STRUCT(vigil_filter, FROZEN);
	FIELD(vigil_filter, types);
	FIELD(vigil_filter, subject);
	FIELD(vigil_filter, queue_max);

	/* config.h */
	ENUM(VIGIL_KEY_STRING);
	ENUM(VIGIL_KEY_INT);
	ENUM(VIGIL_KEY_BOOL);
	ENUM(VIGIL_KEY_DURATION);
	ENUM(VIGIL_KEY_SIZE);
	ENUM(VIGIL_KEY_PERCENT);
	ENUM(VIGIL_KEY_DOUBLE);
	ENUM(VIGIL_KEY_PATH);
	ENUM(VIGIL_KEY_ENUM);
	ENUM(VIGIL_KEY_MODE);
	ENUM(VIGIL_KEY_LIST);

	STRUCT(vigil_config_key, FROZEN);
	FIELD(vigil_config_key, name);
	FIELD(vigil_config_key, type);
	FIELD(vigil_config_key, def);
	FIELD(vigil_config_key, required);
	FIELD(vigil_config_key, doc);
	FIELD(vigil_config_key, choices);

	/* host.h */
	ENUM(VIGIL_LOG_DEBUG);
	ENUM(VIGIL_LOG_INFO);
	ENUM(VIGIL_LOG_WARN);
	ENUM(VIGIL_LOG_ERROR);
	ENUM(VIGIL_FD_IN);
	ENUM(VIGIL_FD_OUT);
	ENUM(VIGIL_FD_ERR);
	ENUM(VIGIL_FD_HUP);

	STRUCT(vigil_plugin_info, GROW);
	FIELD(vigil_plugin_info, size);
	FIELD(vigil_plugin_info, kind);
	FIELD(vigil_plugin_info, plugin);
	FIELD(vigil_plugin_info, instance);
	FIELD(vigil_plugin_info, section);
	FIELD(vigil_plugin_info, version);
	FIELD(vigil_plugin_info, description);
	FIELD(vigil_plugin_info, file);
	FIELD(vigil_plugin_info, abi_major);
	FIELD(vigil_plugin_info, abi_minor);

	STRUCT(vigil_host, GROW);
	FIELD(vigil_host, size);
	FIELD(vigil_host, abi_major);
	FIELD(vigil_host, abi_minor);
	FIELD(vigil_host, version);
	FIELD(vigil_host, log);
	FIELD(vigil_host, instance_name);
	FIELD(vigil_host, state_dir);
	FIELD(vigil_host, cfg_string);
	FIELD(vigil_host, cfg_int);
	FIELD(vigil_host, cfg_bool);
	FIELD(vigil_host, cfg_double);
	FIELD(vigil_host, cfg_duration_ms);
	FIELD(vigil_host, cfg_size);
	FIELD(vigil_host, publish);
	FIELD(vigil_host, subscribe);
	FIELD(vigil_host, unsubscribe);
	FIELD(vigil_host, sub_dropped);
	FIELD(vigil_host, event_ref);
	FIELD(vigil_host, event_unref);
	FIELD(vigil_host, event_name);
	FIELD(vigil_host, event_type);
	FIELD(vigil_host, timer_add);
	FIELD(vigil_host, timer_cancel);
	FIELD(vigil_host, watch_fd);
	FIELD(vigil_host, watch_modify);
	FIELD(vigil_host, unwatch);
	FIELD(vigil_host, now_ms);
	FIELD(vigil_host, wall_ms);
	FIELD(vigil_host, proc_foreach);
	FIELD(vigil_host, proc_control);
	FIELD(vigil_host, plugin_foreach);
	FIELD(vigil_host, shutdown);

	/* plugin.h */
	ENUM(VIGIL_KIND_MONITOR);
	ENUM(VIGIL_KIND_POLICY);
	ENUM(VIGIL_KIND_STORE);
	ENUM(VIGIL_KIND_FRONTEND);
	ENUM(VIGIL_PLUGIN_SIZE_1_0);

	STRUCT(vigil_abi_header, FROZEN);
	FIELD(vigil_abi_header, abi_major);
	FIELD(vigil_abi_header, abi_minor);
	FIELD(vigil_abi_header, struct_size);

	STRUCT(vigil_plugin, GROW);
	FIELD(vigil_plugin, abi);
	FIELD(vigil_plugin, kind);
	FIELD(vigil_plugin, name);
	FIELD(vigil_plugin, version);
	FIELD(vigil_plugin, description);
	FIELD(vigil_plugin, keys);
	FIELD(vigil_plugin, init);
	FIELD(vigil_plugin, configure);
	FIELD(vigil_plugin, start);
	FIELD(vigil_plugin, stop);
	FIELD(vigil_plugin, fini);
	FIELD(vigil_plugin, ops);

	/* policy.h */
	ENUM(VIGIL_RESTART_NOW);
	ENUM(VIGIL_RESTART_AFTER);
	ENUM(VIGIL_GIVE_UP);

	STRUCT(vigil_exit_info, GROW);
	FIELD(vigil_exit_info, size);
	FIELD(vigil_exit_info, name);
	FIELD(vigil_exit_info, pid);
	FIELD(vigil_exit_info, exit_code);
	FIELD(vigil_exit_info, signal);
	FIELD(vigil_exit_info, spawn_failed);
	FIELD(vigil_exit_info, runtime_ms);
	FIELD(vigil_exit_info, now_ms);

	STRUCT(vigil_decision, FROZEN);
	FIELD(vigil_decision, verdict);
	FIELD(vigil_decision, delay_ms);
	FIELD(vigil_decision, reason);

	STRUCT(vigil_policy_ops, GROW);
	FIELD(vigil_policy_ops, size);
	FIELD(vigil_policy_ops, decide);
	FIELD(vigil_policy_ops, reset);
	FIELD(vigil_policy_ops, release);

	/* store.h */
	STRUCT(vigil_registry_entry, GROW);
	FIELD(vigil_registry_entry, size);
	FIELD(vigil_registry_entry, name);
	FIELD(vigil_registry_entry, program);
	FIELD(vigil_registry_entry, pid);
	FIELD(vigil_registry_entry, pgid);
	FIELD(vigil_registry_entry, start_ticks);
	FIELD(vigil_registry_entry, boot_id);
	FIELD(vigil_registry_entry, started_at_ms);
	FIELD(vigil_registry_entry, state);
	FIELD(vigil_registry_entry, restarts);
	FIELD(vigil_registry_entry, pid_ino);

	STRUCT(vigil_store_ops, GROW);
	FIELD(vigil_store_ops, size);
	FIELD(vigil_store_ops, registry_put);
	FIELD(vigil_store_ops, registry_remove);
	FIELD(vigil_store_ops, registry_load);
	FIELD(vigil_store_ops, flush);

	/* monitor.h */
	STRUCT(vigil_monitor_ops, GROW);
	FIELD(vigil_monitor_ops, size);
	FIELD(vigil_monitor_ops, attach);
	FIELD(vigil_monitor_ops, detach);
	FIELD(vigil_monitor_ops, kill_tree);

	/* frontend.h */
	STRUCT(vigil_frontend_ops, GROW);
	FIELD(vigil_frontend_ops, size);
	/* Appended in 1.0 before its release: tasks, history and statistics, health. */
	FIELD(vigil_ev_task_queued, command);
	FIELD(vigil_ev_task_queued, submitted_at_ms);
	STRUCT(vigil_ev_task_started, GROW);
	FIELD(vigil_ev_task_started, hdr);
	FIELD(vigil_ev_task_started, pool);
	FIELD(vigil_ev_task_started, name);
	FIELD(vigil_ev_task_started, type);
	FIELD(vigil_ev_task_started, pid);
	FIELD(vigil_ev_task_started, attempt);
	FIELD(vigil_ev_task_started, queued_ms);
	FIELD(vigil_ev_task_finished, priority);
	FIELD(vigil_ev_task_finished, attempts);
	FIELD(vigil_ev_task_finished, submitted_at_ms);
	FIELD(vigil_ev_task_finished, started_at_ms);
	FIELD(vigil_ev_task_finished, error);
	FIELD(vigil_ev_health_changed, memory_penalty);
	FIELD(vigil_ev_health_changed, cpu_penalty);
	FIELD(vigil_ev_health_changed, restart_penalty);
	FIELD(vigil_ev_health_changed, check_penalty);
	FIELD(vigil_ev_health_changed, latency_penalty);
	FIELD(vigil_ev_health_changed, memory_exhaustion_ms);
	ENUM(VIGIL_EV_TASK_STARTED);
	FIELD(vigil_host, history_query);
	FIELD(vigil_host, reload);
	FIELD(vigil_host, reexec);
	FIELD(vigil_host, stats_query);
	FIELD(vigil_host, task_submit);
	FIELD(vigil_host, task_cancel);
	FIELD(vigil_host, task_foreach);
	FIELD(vigil_host, health_foreach);
	FIELD(vigil_proc_info, on_limit);
	FIELD(vigil_proc_info, check_latency_us);
	FIELD(vigil_proc_info, check_failures);
	FIELD(vigil_proc_info, status);
	STRUCT(vigil_alert_info, FROZEN);
	FIELD(vigil_alert_info, alert);
	FIELD(vigil_alert_info, severity);
	FIELD(vigil_alert_info, message);
	FIELD(vigil_alert_info, since_ms);
	STRUCT(vigil_health_info, GROW);
	FIELD(vigil_health_info, size);
	FIELD(vigil_health_info, name);
	FIELD(vigil_health_info, score);
	FIELD(vigil_health_info, level);
	FIELD(vigil_health_info, trend);
	FIELD(vigil_health_info, memory_penalty);
	FIELD(vigil_health_info, cpu_penalty);
	FIELD(vigil_health_info, restart_penalty);
	FIELD(vigil_health_info, check_penalty);
	FIELD(vigil_health_info, latency_penalty);
	FIELD(vigil_health_info, memory_exhaustion_ms);
	FIELD(vigil_health_info, alerts);
	FIELD(vigil_health_info, nalerts);
	FIELD(vigil_health_info, alerts_raised);
	FIELD(vigil_health_info, violations);
	FIELD(vigil_health_info, violations_memory);
	FIELD(vigil_health_info, violations_cpu);
	FIELD(vigil_health_info, violations_runtime);
	FIELD(vigil_health_info, violations_nofile);
	FIELD(vigil_health_info, violations_nproc);
	FIELD(vigil_health_info, last_violation_ms);
	STRUCT(vigil_task_spec, GROW);
	FIELD(vigil_task_spec, size);
	FIELD(vigil_task_spec, pool);
	FIELD(vigil_task_spec, name);
	FIELD(vigil_task_spec, type);
	FIELD(vigil_task_spec, priority);
	FIELD(vigil_task_spec, timeout_ms);
	FIELD(vigil_task_spec, cwd);
	FIELD(vigil_task_spec, env);
	FIELD(vigil_task_spec, argv);
	STRUCT(vigil_task_info, GROW);
	FIELD(vigil_task_info, size);
	FIELD(vigil_task_info, id);
	FIELD(vigil_task_info, name);
	FIELD(vigil_task_info, type);
	FIELD(vigil_task_info, pool);
	FIELD(vigil_task_info, command);
	FIELD(vigil_task_info, state);
	FIELD(vigil_task_info, priority);
	FIELD(vigil_task_info, pid);
	FIELD(vigil_task_info, attempt);
	FIELD(vigil_task_info, queue_position);
	FIELD(vigil_task_info, submitted_at_ms);
	FIELD(vigil_task_info, started_at_ms);
	FIELD(vigil_task_info, ended_at_ms);
	FIELD(vigil_task_info, timeout_ms);
	FIELD(vigil_task_info, exit_code);
	FIELD(vigil_task_info, signal);
	FIELD(vigil_task_info, duration_ms);
	FIELD(vigil_task_info, cpu_s);
	FIELD(vigil_task_info, peak_rss_bytes);
	FIELD(vigil_task_info, error);
	STRUCT(vigil_history_query, GROW);
	FIELD(vigil_history_query, size);
	FIELD(vigil_history_query, kind);
	FIELD(vigil_history_query, name);
	FIELD(vigil_history_query, state);
	FIELD(vigil_history_query, type);
	FIELD(vigil_history_query, priority);
	FIELD(vigil_history_query, tag);
	FIELD(vigil_history_query, since_ms);
	FIELD(vigil_history_query, until_ms);
	FIELD(vigil_history_query, limit);
	STRUCT(vigil_history_row, GROW);
	FIELD(vigil_history_row, size);
	FIELD(vigil_history_row, kind);
	FIELD(vigil_history_row, name);
	FIELD(vigil_history_row, program);
	FIELD(vigil_history_row, id);
	FIELD(vigil_history_row, pid);
	FIELD(vigil_history_row, state);
	FIELD(vigil_history_row, type);
	FIELD(vigil_history_row, priority);
	FIELD(vigil_history_row, tags);
	FIELD(vigil_history_row, started_at_ms);
	FIELD(vigil_history_row, ended_at_ms);
	FIELD(vigil_history_row, exit_code);
	FIELD(vigil_history_row, signal);
	FIELD(vigil_history_row, reason);
	FIELD(vigil_history_row, error);
	FIELD(vigil_history_row, cpu_s);
	FIELD(vigil_history_row, peak_rss_bytes);
	STRUCT(vigil_stats_query, GROW);
	FIELD(vigil_stats_query, size);
	FIELD(vigil_stats_query, by);
	FIELD(vigil_stats_query, since_ms);
	STRUCT(vigil_stats_row, GROW);
	FIELD(vigil_stats_row, size);
	FIELD(vigil_stats_row, key);
	FIELD(vigil_stats_row, runs);
	FIELD(vigil_stats_row, successes);
	FIELD(vigil_stats_row, failures);
	FIELD(vigil_stats_row, timeouts);
	FIELD(vigil_stats_row, success_rate);
	FIELD(vigil_stats_row, p50_ms);
	FIELD(vigil_stats_row, p95_ms);
	FIELD(vigil_stats_row, max_ms);
	FIELD(vigil_stats_row, cpu_s);
	FIELD(vigil_stats_row, peak_rss_bytes);
	FIELD(vigil_store_ops, history_query);
	FIELD(vigil_store_ops, stats_query);
}

static void print_row(FILE *f, const struct row *r)
{
	if (strcmp(r->kind, "struct") == 0)
		fprintf(f, "struct %s %ld %s\n", r->name, r->a, r->b ? "grow" : "frozen");
	else if (strcmp(r->kind, "field") == 0)
		fprintf(f, "field %s %ld %ld\n", r->name, r->a, r->b);
	else
		fprintf(f, "enum %s %ld\n", r->name, r->a);
}

static const struct row *find(const char *kind, const char *name)
{
	for (size_t i = 0; i < nrows; i++)
		if (strcmp(rows[i].kind, kind) == 0 && strcmp(rows[i].name, name) == 0)
			return &rows[i];
	return NULL;
}

/* The struct a field belongs to ("vigil_host" for "vigil_host.log"). */
static const struct row *owner(const char *field)
{
	char sname[96];
	const char *dot = strchr(field, '.');

	snprintf(sname, sizeof sname, "%.*s", dot ? (int)(dot - field) : 0, field);
	return find("struct", sname);
}

enum verdict { SAME = 0, MINOR = 1, MAJOR = 2 };

/* Compares the recorded table of one ABI version with the current layout. A recorded fact
 * that changed is a major change, except a growable struct that got bigger. A new fact is a
 * minor change (an appended field, a new struct, a new enum value), unless it is a field that
 * lands inside the recorded size of its struct, or one of a frozen struct. */
static enum verdict compare(const char *path, int *missing_table)
{
	FILE *f = fopen(path, "r");
	char line[256];
	static struct row old[1024];
	size_t nold = 0, lineno = 0;
	enum verdict v = SAME;

	*missing_table = 0;
	if (!f) {
		*missing_table = 1;
		return MAJOR;
	}
	while (fgets(line, sizeof line, f)) {
		struct row r = {{0}, {0}, 0, 0};
		char flag[16] = "";
		int n;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		n = sscanf(line, "%7s %95s %ld %15s", r.kind, r.name, &r.a, flag);
		if (n < 3 || nold == sizeof old / sizeof old[0]) {
			fprintf(stderr, "%s:%zu: cannot read this line\n", path, lineno);
			fclose(f);
			return MAJOR;
		}
		if (strcmp(r.kind, "struct") == 0)
			r.b = strcmp(flag, "grow") == 0;
		else if (strcmp(r.kind, "field") == 0)
			r.b = strtol(flag, NULL, 10);
		old[nold++] = r;
	}
	fclose(f);

	for (size_t i = 0; i < nold; i++) {
		const struct row *now = find(old[i].kind, old[i].name);

		if (!now) {
			fprintf(stderr, "  removed: %s %s\n", old[i].kind, old[i].name);
			v = MAJOR;
		} else if (now->a != old[i].a || now->b != old[i].b) {
			int grew = strcmp(now->kind, "struct") == 0 && now->b == old[i].b &&
			           old[i].b && now->a > old[i].a;

			fprintf(stderr, "  changed: %s %s: was %ld %ld, now %ld %ld%s\n", now->kind,
			        now->name, old[i].a, old[i].b, now->a, now->b,
			        grew ? " (grew)" : "");
			if (!grew)
				v = MAJOR;
			else if (v == SAME)
				v = MINOR;
		}
	}
	for (size_t i = 0; i < nrows; i++) {
		int known = 0;

		for (size_t j = 0; j < nold && !known; j++)
			known = strcmp(rows[i].kind, old[j].kind) == 0 &&
			        strcmp(rows[i].name, old[j].name) == 0;
		if (known)
			continue;
		fprintf(stderr, "  new: ");
		print_row(stderr, &rows[i]);
		if (strcmp(rows[i].kind, "field") == 0) {
			const struct row *s = owner(rows[i].name);
			const struct row *olds = NULL;

			for (size_t j = 0; s && j < nold; j++)
				if (strcmp(old[j].kind, "struct") == 0 &&
				    strcmp(old[j].name, s->name) == 0)
					olds = &old[j];
			if (olds && (!olds->b || rows[i].a < olds->a)) {
				fprintf(stderr, "    (not appended to a growable struct)\n");
				v = MAJOR;
				continue;
			}
		}
		if (v == SAME)
			v = MINOR;
	}
	return v;
}

int main(int argc, char **argv)
{
	char path[4096];
	int missing;
	enum verdict v;

	collect();
	if (argc == 1) {
		printf("# vigil ABI %d.%d layout, LP64. Generated by tests/abi/abi_layout; never "
		       "edit.\n",
		       VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR);
		for (size_t i = 0; i < nrows; i++)
			print_row(stdout, &rows[i]);
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "--check") != 0) {
		fprintf(stderr,
		        "usage: abi_layout            print the current layout\n"
		        "       abi_layout --check DIR  compare with DIR/abi-MAJOR.MINOR.txt\n");
		return 2;
	}
	if (sizeof(void *) != 8 || sizeof(long) != 8) {
		printf("SKIP: the recorded tables are for LP64 targets\n");
		return 77;
	}

	/* Every older minor of this major must still hold (only appends since), and the table
	 * of the current minor must match exactly. */
	for (int minor = 0; minor <= VIGIL_ABI_MINOR; minor++) {
		snprintf(path, sizeof path, "%s/abi-%d.%d.txt", argv[2], VIGIL_ABI_MAJOR, minor);
		fprintf(stderr, "checking %s\n", path);
		v = compare(path, &missing);
		if (missing && minor == VIGIL_ABI_MINOR) {
			fprintf(stderr,
			        "\nABI FAIL: there is no table for ABI %d.%d. Record it, after "
			        "checking that "
			        "the change is an append:\n    abi_layout > %s\n",
			        VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, path);
			return 1;
		}
		if (missing)
			continue; /* a major's history may start after .0 */
		if (minor < VIGIL_ABI_MINOR && v == MAJOR) {
			fprintf(
			    stderr,
			    "\nABI FAIL: a change since ABI %d.%d breaks plugins built for it. "
			    "Undo it, "
			    "or bump VIGIL_ABI_MAJOR in sdk/include/vigil/vigil.h (and the entry "
			    "symbol), remove the old tables and record abi-%d.0.txt.\n",
			    VIGIL_ABI_MAJOR, minor, VIGIL_ABI_MAJOR + 1);
			return 1;
		}
		if (minor == VIGIL_ABI_MINOR && v == MINOR) {
			fprintf(stderr,
			        "\nABI FAIL: the public structs changed by appending only. Bump "
			        "VIGIL_ABI_MINOR to %d in sdk/include/vigil/vigil.h, add the new "
			        "minimum "
			        "size to the loader's table if struct vigil_plugin grew, and "
			        "record the "
			        "new layout:\n    abi_layout > %s/abi-%d.%d.txt\n",
			        VIGIL_ABI_MINOR + 1, argv[2], VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR + 1);
			return 1;
		}
		if (minor == VIGIL_ABI_MINOR && v == MAJOR) {
			fprintf(
			    stderr,
			    "\nABI FAIL: the public structs changed incompatibly (a field moved, "
			    "changed size or went away, or a frozen struct changed). Undo it, or "
			    "bump "
			    "VIGIL_ABI_MAJOR to %d in sdk/include/vigil/vigil.h (and the entry "
			    "symbol) and record abi-%d.0.txt.\n",
			    VIGIL_ABI_MAJOR + 1, VIGIL_ABI_MAJOR + 1);
			return 1;
		}
	}
	printf("ABI %d.%d layout matches (%zu facts)\n", VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, nrows);
	return 0;
}
