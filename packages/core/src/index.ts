/**
 * @backupctl/core: pipelines, plugin resolution and the job's lifecycle,
 * backup, restore and verify, the catalog of stored backups, whole-server
 * parts and the built-in hooks. Written against @backupctl/plugin-api only:
 * it names no plugin (the CLI hands it the built-ins).
 */
export { loadPipeline, selectJobs, type LoadOptions, type LoadedJob, type LoadedPipeline, type LoadedStep } from './config/load-pipeline.js';
export { ConfigError, type ConfigIssue } from './config/config-error.js';
export { BARE_HOST, type BuiltinLoader, type PipelineHost } from './plugins/pipeline-host.js';
export { runPipeline, type RunPipelineOptions, type RunSummary } from './backup/run-pipeline.js';
export { BASE_BYTES, planRun, STREAM_BYTES, streamBytesOf, type RunPlan, type RunPlanInput } from './backup/run-plan.js';
export { checkSharedJobs, walkOrder, workerIndexFromEnvironment, type WorkerOptions } from './backup/shared-walk.js';
export { runJob, type CopyResult, type JobProgress, type JobResult, type JobStatus } from './backup/run-job.js';
export { createLogger, formatLogTime, formatUtcTime, withLogFields, type LogFormat, type LoggerOptions } from './log/logger.js';
export { formatTimestamp, parseObjectTimestamp, renderObjectName } from './naming/object-name.js';
export { coreVersion, findPackage, type PackageInfo } from './catalog/package-info.js';
export { setYoungGenerationCollector } from './streams/buffer-reclaimer.js';
export { resolvePlugin, type ResolvedPlugin } from './plugins/resolve-plugin.js';
export { checkJob } from './plugins/check-job.js';
export { openStore, withStore } from './catalog/open-store.js';
export { listBackups, listBackupsOf, type BackupEntry, type JobBackups } from './catalog/list-backups.js';
export { backupNameMatcher, type BackupNaming } from './naming/backup-name-matcher.js';
export { createInstance, emptyArtifactInfo, type InstanceEnvironment } from './plugins/create-instance.js';
export {
  checksumDocument,
  jobRecordDocument,
  LAST_BACKUP,
  readBackupRecord,
  readJobRecord,
  recordBackup,
  type BackupRecord,
} from './catalog/backup-records.js';
export { pruneJobs, type PruneOptions, type PruneResult } from './catalog/prune-jobs.js';
export { default as respawnHook, checkRespawn, respawnSchema } from './hooks/respawn.js';
export { findLastBackup, type LastBackup } from './hooks/last-backup.js';
export { readJobFreshness, type JobFreshness } from './hooks/job-freshness.js';
export {
  default as retentionHook,
  applyRetention,
  retentionSchema,
  type RetentionOptions,
  type RetentionOutcome,
  type RetentionPass,
} from './hooks/retention.js';
export { hasRetentionRule, selectExpired, type DatedBackup, type RetentionRules } from './hooks/retention-policy.js';
export { listJobBackups, type JobBackupScan } from './catalog/job-backups.js';
export { readBackupHistory, type BackupHistoryEntry, type JobHistory, type RecordFigures } from './catalog/backup-history.js';
export { flagSchema, parseFlag } from './hooks/flag.js';
export { chooseBackup, parseAt, pickBackup, type BackupSelection, type ChosenBackup } from './catalog/backup-selection.js';
export { ChecksumVerifier, type ExpectedChecksum } from './restore/checksum-verifier.js';
export {
  describeRestored,
  restoreBackup,
  formatSeconds,
  restoreJob,
  withRestoreStages,
  type RestoredBackup,
  type RestoreEnvironment,
  type RestoreJobOptions,
  type RestoreStages,
} from './restore/restore-job.js';
export { verifyExpandedJob, verifyJob, verifyJobOrParts, type ExpandedVerifyOutcome, type VerifyJobOptions, type VerifyOutcome } from './restore/verify-job.js';
// Whole servers: a source standing for several databases runs, restores and lists as one sub-job per part.
export { expandJob, expandStoredJob, type ExpandEnvironment } from './parts/expand-job.js';
export { restoreExpandedJob } from './restore/restore-expanded.js';
export { compareRowCounts, formatComparison, type ComparedWith, type TableComparison } from './restore/row-count-comparison.js';
// Proven backups: manifests, verifications, the anomaly guard and what retention holds for them.
export type { ManifestRecord } from './catalog/manifest-records.js';
export type { AnomalyRecord } from './catalog/anomaly-records.js';
export { inspectBackups, type InspectedBackup } from './catalog/inspect-backups.js';
export { acceptJobAnomaly } from './catalog/accept-anomaly.js';
export { AnomalySchema } from './config/pipeline-schema.js';
export { copiesOf, type AnomalySettings, type LoadedCopy } from './plugins/loaded-job.js';
export { default as verifyHook } from './hooks/verify.js';
export { describeFailure, describePassed } from './hooks/verification-text.js';
export { default as webhookHook, webhookPayload, type WebhookPayload } from './hooks/webhook.js';
export { notifyJob, notifierStepsOf, testJobNotifiers, withJobNotifiers, type NotifyEnvironment } from './notify/job-notifiers.js';
export { sendNotification, NOTIFY_LIMIT_MS, type Notifier, type NotifyOutcome } from './notify/send-notification.js';
export { stalenessNotification, testNotification } from './notify/job-notifications.js';
export { listPipelinePlugins, type PipelinePlugin, type PipelinePlugins } from './config/pipeline-plugins.js';
