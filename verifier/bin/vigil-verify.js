#!/usr/bin/env node
// @ts-check
/**
 * vigil-verify <bundle.jsonl> [--keys vigil-audit-keys.json]
 * vigil-verify --events <export.jsonl> --trail <trail.json> [--keys vigil-audit-keys.json]
 *
 * A company's own check of its Vigil journal, with no server and no database: an evidence bundle
 * (exportAuditEvidence), or an unfiltered JSONL export with the auditTrail answer saved as JSON. --keys names
 * the platform's keys as fetched from /.well-known/vigil-audit-keys.json; without it the keys the bundle carries
 * are used, and the report says so. Exit code: 0 intact, 1 tampering found, 2 bad usage or unreadable files.
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { parseBundle, verifyBundle, verifyEvents } from '../src/verify.js';

const USAGE = 'Usage: vigil-verify <bundle.jsonl> [--keys vigil-audit-keys.json]\n       vigil-verify --events <export.jsonl> --trail <trail.json> [--keys vigil-audit-keys.json]';

class UsageError extends Error {}

function main() {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { events: { type: 'string' }, trail: { type: 'string' }, keys: { type: 'string' } } });
  const publishedKeys = values.keys ? read(values.keys, (text) => JSON.parse(text).keys) : undefined;
  if (publishedKeys && !Array.isArray(publishedKeys)) throw new UsageError(`${values.keys}: no "keys" list (save /.well-known/vigil-audit-keys.json as served)`);
  const keysSaid = publishedKeys ? `keys from ${values.keys}` : 'keys as the bundle carries them: pin them with --keys';
  if (positionals.length === 1 && !values.events && !values.trail) {
    const bundle = read(positionals[0], parseBundle);
    return say(bundle.header.tenantId, verifyBundle(bundle, { publishedKeys }), `range ${bundle.header.fromSeq}..${bundle.header.toSeq}, ${keysSaid}`);
  }
  if (positionals.length || !values.events || !values.trail) throw new UsageError(USAGE);
  const events = read(values.events, (text) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line)));
  const trail = read(values.trail, (text) => {
    const parsed = JSON.parse(text);
    return parsed.data?.auditTrail ?? parsed;
  });
  return say(trail.tenantId, verifyEvents(events, publishedKeys ? { ...trail, keys: publishedKeys } : trail), keysSaid.replace('the bundle carries', 'the trail carries'));
}

/** @param {string} tenantId @param {import('../src/verify.js').Report} report @param {string} context */
function say(tenantId, report, context) {
  const checkpoint = report.lastCheckpoint ? `checkpoint seq ${report.lastCheckpoint.seq} at ${report.lastCheckpoint.time}` : 'no checkpoint covers it';
  if (report.ok) console.log(`ok       ${tenantId}  seq ${report.checkedFromSeq ?? '-'}..${report.checkedToSeq ?? '-'}, ${report.events} events  (${checkpoint}; ${context})`);
  else console.log(`TAMPERED ${tenantId}  first bad seq ${report.firstBadSeq ?? '-'}: ${report.problem}  (${checkpoint}; ${context})`);
  return report.ok ? 0 : 1;
}

/** @template T @param {string} file @param {(text: string) => T} parse @returns {T} */
function read(file, parse) {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${/** @type {Error} */ (error).message}`);
  }
}

try {
  process.exitCode = main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(error.message);
  process.exitCode = 2;
}
