/**
 * npm run audit:verify-offline -- --events <export.jsonl> --trail <trail.json>
 * A company's own check of its journal, without Vigil's server or database: an unfiltered JSONL export
 * (`exportAuditEvents(format: JSONL)`) against the signed checkpoints and public keys of `auditTrail`, saved
 * as JSON (the query's `auditTrail` object, or the whole `{ "data": { "auditTrail": … } }` answer).
 * Exit code: 0 intact, 1 tampering found, 2 bad usage or unreadable files.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type ExportedEvent, type PublishedTrail, verifyExport } from '../server/src/audit/offline-verify.ts';
import { ConfigError } from '../server/src/config-error.ts';
import { exitWith } from './exit-with.ts';

function main(): Promise<number> {
  const { values } = parseArgs({ options: { events: { type: 'string' }, trail: { type: 'string' } } });
  if (!values.events || !values.trail) throw new ConfigError('Usage: npm run audit:verify-offline -- --events <export.jsonl> --trail <trail.json>');
  const events = readJson(values.events, (text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ExportedEvent));
  const trail = readJson(values.trail, (text) => {
    const parsed = JSON.parse(text) as PublishedTrail & { data?: { auditTrail: PublishedTrail } };
    return parsed.data?.auditTrail ?? parsed;
  });
  const report = verifyExport(events, trail);
  const checkpoint = report.lastCheckpoint ? `checkpoint seq ${report.lastCheckpoint.seq} at ${report.lastCheckpoint.time}` : 'no checkpoint covers it';
  if (report.ok) console.log(`ok       ${trail.tenantId}  seq ${report.checkedFromSeq ?? '-'}..${report.checkedToSeq ?? '-'}, ${report.events} events  (${checkpoint})`);
  else console.log(`TAMPERED ${trail.tenantId}  first bad seq ${report.firstBadSeq ?? '-'}: ${report.problem}  (${checkpoint})`);
  return Promise.resolve(report.ok ? 0 : 1);
}

function readJson<T>(file: string, parse: (text: string) => T): T {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }
}

exitWith(Promise.resolve().then(main));
