import { defineEntity, p } from '@mikro-orm/postgresql';

/** A lease per background job: among several instances, the one holding it runs the job. */
export const ScheduledJob = defineEntity({
  name: 'ScheduledJob',
  properties: {
    name: p.string().length(60).primary(),
    leasedUntil: p.datetime().nullable(),
    lastRunAt: p.datetime().nullable(),
  },
});

export type ScheduledJob = InstanceType<typeof ScheduledJob.class>;
