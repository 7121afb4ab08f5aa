/** AuditStatistics of the API. */
export interface Bucket {
  start: string;
  count: number;
}

export interface Attention {
  failedSignIns: number;
  lockouts: number;
  tokenReuse: number;
  newDevices: number;
  revocations: number;
  securityAlerts: number;
}

export interface Statistics {
  eventsPerMinute: Bucket[];
  failedSignInsPerHour: Bucket[];
  attention: Attention;
}

export const STATISTICS = `query Overview { auditStatistics {
  eventsPerMinute { start count } failedSignInsPerHour { start count }
  attention { failedSignIns lockouts tokenReuse newDevices revocations securityAlerts }
} }`;
