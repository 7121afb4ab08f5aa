/** A run of WAL segments pgBackRest found in the archive, e.g. 000000010000000000000001 … 000000010000000000000004. */
export interface SegmentRange {
  start: string;
  stop: string;
}

// 16 MB segments: 256 per "log" (the middle 8 hex digits), timeline first.
const SEGMENTS_PER_LOG = 0x100;

function ordinal(segment: string): { timeline: string; index: bigint } {
  const log = BigInt(`0x${segment.slice(8, 16)}`);
  const seg = BigInt(`0x${segment.slice(16, 24)}`);
  return { timeline: segment.slice(0, 8), index: log * BigInt(SEGMENTS_PER_LOG) + seg };
}

function nameOf(timeline: string, index: bigint): string {
  const hex = (value: bigint) => value.toString(16).toUpperCase().padStart(8, '0');
  return `${timeline}${hex(index / BigInt(SEGMENTS_PER_LOG))}${hex(index % BigInt(SEGMENTS_PER_LOG))}`;
}

/**
 * The segments missing between consecutive runs of one timeline: pgBackRest's verify reports the runs but
 * counts a hole after the last backup as no error, though a point-in-time restore past it stops there.
 */
export function missingSegments(ranges: SegmentRange[]): string[] {
  const missing: string[] = [];
  const sorted = [...ranges].sort((a, b) => a.start.localeCompare(b.start));
  for (let i = 1; i < sorted.length; i++) {
    const before = ordinal(sorted[i - 1].stop);
    const after = ordinal(sorted[i].start);
    if (before.timeline !== after.timeline) continue;
    for (let index = before.index + 1n; index < after.index; index++) missing.push(nameOf(after.timeline, index));
  }
  return missing;
}

/** The segment holding the last byte before `lsn` (`X/Y`, an end position, as pg_last_wal_replay_lsn gives it) on `timeline`. */
export function segmentBefore(timeline: string, lsn: string): string {
  const [high, low] = lsn.split('/').map((part) => BigInt(`0x${part}`));
  const lastByte = (high << 32n) + low - 1n;
  return nameOf(timeline, lastByte >> 24n);
}

/**
 * The first segment a restore could not fetch, when it stopped before the end of the archive (what a
 * missing segment does: recovery ends there, quietly, without what came after).
 */
export function firstUnrestored(restoredThrough: string, archiveMax: string): string | null {
  const through = ordinal(restoredThrough);
  const max = ordinal(archiveMax);
  return through.timeline === max.timeline && through.index < max.index ? nameOf(max.timeline, through.index + 1n) : null;
}
