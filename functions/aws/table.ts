/** The run table's shape, shared by the CDK stack and the local runtime (names only). */
export const RunTable = {
  partitionKey: 'pk',
  sortKey: 'sk',
  listIndex: 'byStartTime',
  listPartitionKey: 'gsi1pk',
  listSortKey: 'gsi1sk',
  ttlAttribute: 'expiresAt',
} as const;

/** Environment variable names the handlers read (set by the stack, and by `ferry serve`). */
export const Env = {
  tableName: 'FERRY_TABLE_NAME',
  stateMachineArn: 'FERRY_STATE_MACHINE_ARN',
  eventBusName: 'FERRY_EVENT_BUS_NAME',
  retentionDays: 'FERRY_RETENTION_DAYS',
  allowPrivateNetworks: 'FERRY_ALLOW_PRIVATE_NETWORKS',
  task: 'FERRY_TASK',
  /** JSON list of the ECR repository prefixes runs may use (absent: no limit, as for `ferry serve`). */
  ecrRepositoryPrefixes: 'FERRY_ECR_REPOSITORY_PREFIXES',
  /** Hours after which the sweep deletes an unfinished run's secrets. */
  runSecretMaxAgeHours: 'FERRY_RUN_SECRET_MAX_AGE_HOURS',
} as const;
