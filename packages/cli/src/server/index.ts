/**
 * backupctl/server: the health server, metrics, cron scheduler and
 * scheduled verifications behind `serve` and `run --serve`. A subpath of
 * its own because it loads prom-client and croner, which a one-shot run
 * (and every plugin that imports the plugin API) should not pay for in
 * start-up time and memory.
 */
export { startBackupService, type BackupService, type BackupServiceOptions } from './backup-service.js';
export { HealthState, type HealthReport, type JobHealth, type VerificationSummary, type VerifyResult } from './health-state.js';
export { startHealthServer, type HealthServer, type HealthServerOptions } from './http-server.js';
export { createMetricsRegistry } from './metrics.js';
export { verifyNewestBackup, type ScheduledVerifyOptions } from './scheduled-verify.js';
export { checkIntervalMs, DEFAULT_STALE_AFTER_HOURS, watchStaleness, type StalenessWatch, type WatchedJob } from './staleness.js';
export { checkSchedulePattern, startSchedule, type Schedule, type ScheduleKind, type ScheduleOptions } from './scheduler.js';
