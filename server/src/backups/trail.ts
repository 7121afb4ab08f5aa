import { offsiteCheckpointPrefix } from '../audit/checkpoints.ts';
import type { Config } from '../config.ts';
import { offsiteStore } from '../offsite/object-store.ts';
import { checkpointLines } from './take-backup.ts';

/**
 * The signed checkpoints a restored copy is held to, per journal, as JSON lines signed at or before
 * `until`: the external bucket's (the trail every instance writes to and none can rewrite) when there is
 * one, else this instance's own.
 */
export async function checkpointTrail(config: Pick<Config, 'offsite' | 'checkpointsDir'>, tenantIds: string[], until: Date): Promise<Record<string, string>> {
  const store = offsiteStore(config);
  const trail: Record<string, string> = {};
  for (const tenantId of tenantIds) {
    if (!store) {
      trail[tenantId] = checkpointLines(config.checkpointsDir, tenantId, until);
      continue;
    }
    const lines: string[] = [];
    for (const key of await store.list(offsiteCheckpointPrefix(tenantId))) {
      const text = await store.getText(key);
      if (new Date((JSON.parse(text) as { time: string }).time) <= until) lines.push(text);
    }
    trail[tenantId] = lines.join('\n');
  }
  return trail;
}
