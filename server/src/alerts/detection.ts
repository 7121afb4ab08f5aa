import type { RecordedEvent } from '../audit/journal.ts';

/** What the rest of Vigil sees of the detectors (inspector.ts): handed what committed, finished on stop. */
export interface SecurityDetection {
  inspect(events: readonly RecordedEvent[]): void;
  idle(): Promise<void>;
}
