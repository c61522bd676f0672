/** Metric names are part of the runbook contract: dashboards and alerts query them. */
export const METRIC = {
  health: 'command_center_health',
  uptime: 'command_center_uptime_seconds',
  eventsTotal: 'command_center_events_total',
  apiRequestsTotal: 'command_center_api_requests_total',
  apiRequestDuration: 'command_center_api_request_duration_seconds',
} as const;
