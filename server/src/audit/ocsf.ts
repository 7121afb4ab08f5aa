/**
 * A journal record as an OCSF event, for a SIEM. Nothing is invented: what has an OCSF home goes there, the
 * rest of the details into `unmapped`, beside the chain link that ties the event back to its journal entry.
 * Records hold no secret, so neither does the event.
 */
import { AUDIT_ACTIONS, type ActionMeaning, isAuditAction } from './actions.ts';
import type { AuditRecord } from './feed.ts';
import { OCSF_CATEGORIES, OCSF_CLASSES, OCSF_MAPPINGS, type OcsfClassName, type OcsfMapping } from './ocsf-mapping.ts';

/** The OCSF schema version of the events: the one vendored in ocsf-schema/. */
export const OCSF_VERSION = '1.8.0';

export interface OcsfProduct {
  name: string;
  version: string;
}

export type OcsfEvent = Record<string, unknown>;

/** What a class's objects are made of. */
interface Source {
  record: AuditRecord;
  product: OcsfProduct;
  meaning: ActionMeaning;
  details: Details;
}

export function toOcsf(record: AuditRecord, product: OcsfProduct): OcsfEvent {
  // The catalogue keeps every action ever journalled (retired ones too), so an unknown one is a bug, not old data.
  if (!isAuditAction(record.action)) throw new Error(`no OCSF mapping for the journal action ${record.action}`);
  const mapping = OCSF_MAPPINGS[record.action];
  const source: Source = { record, product, meaning: AUDIT_ACTIONS[record.action], details: new Details(record.details) };
  const event: OcsfEvent = {
    ...classification(mapping),
    time: record.occurredAt.getTime(),
    message: source.meaning.description,
    ...severity(source),
    // A finding's status is its consumer's workflow (New, Resolved…), not the outcome of what was seen.
    ...(mapping.class === 'detection_finding' ? {} : status(record)),
    status_code: record.outcome,
    metadata: metadata(source, mapping.class),
    ...CLASS_OBJECTS[mapping.class](source),
  };
  place(event, mapping, source.details);
  source.details.keep('chain', { seq: record.seq, prevHash: record.prevHash, hash: record.hash });
  return { ...event, unmapped: source.details.unmapped() };
}

function classification(mapping: OcsfMapping): OcsfEvent {
  const ocsfClass = OCSF_CLASSES[mapping.class];
  const category = OCSF_CATEGORIES[ocsfClass.category];
  const activityId: number = ocsfClass.activities[mapping.activity as keyof typeof ocsfClass.activities];
  return {
    category_uid: category.uid,
    category_name: category.name,
    class_uid: ocsfClass.uid,
    class_name: ocsfClass.name,
    activity_id: activityId,
    activity_name: mapping.activity === 'Other' ? mapping.activityName : mapping.activity,
    type_uid: ocsfClass.uid * 100 + activityId,
    type_name: `${ocsfClass.name}: ${mapping.activity}`,
  };
}

const SEVERITY_IDS = { Informational: 1, Low: 2, Medium: 3, High: 4, Critical: 5 } as const;
type Severity = keyof typeof SEVERITY_IDS;

/** A detector says how severe its alert is; otherwise the catalogue's alerts rank above the rest, and failures above successes. */
function severity({ record, meaning, details }: Source): OcsfEvent {
  const stated = (Object.keys(SEVERITY_IDS) as Severity[]).find((name) => name.toLowerCase() === String(record.details.severity).toLowerCase());
  if (stated) details.take('severity');
  const failed = record.outcome !== 'success';
  const ranked: Severity = stated ?? (meaning.alert ? (failed ? 'High' : 'Medium') : failed ? 'Low' : 'Informational');
  return { severity_id: SEVERITY_IDS[ranked], severity: ranked };
}

/** Denied is a failure to OCSF; status_code keeps Vigil's own word. */
function status(record: AuditRecord): OcsfEvent {
  return record.outcome === 'success' ? { status_id: 1, status: 'Success' } : { status_id: 2, status: 'Failure' };
}

/** Profiles a class's objects need: the remediation's actor is OCSF's host profile's. */
const PROFILES: Partial<Record<OcsfClassName, string[]>> = { remediation_activity: ['host'] };

function metadata({ record, product }: Source, ocsfClass: OcsfClassName): OcsfEvent {
  return {
    version: OCSF_VERSION,
    product: { name: product.name, vendor_name: 'Vigil', version: product.version },
    uid: record.id,
    event_code: record.action,
    sequence: record.seq,
    log_name: 'vigil-audit',
    original_time: record.occurredAt.toISOString(),
    tenant_uid: record.tenantId,
    ...(PROFILES[ocsfClass] ? { profiles: PROFILES[ocsfClass] } : {}),
  };
}

/** Each class's own objects, the ones it requires among them. */
const CLASS_OBJECTS: Record<OcsfClassName, (source: Source) => OcsfEvent> = {
  authentication: (source) => ({
    ...requestContext(source),
    user: subjectUser(source),
    // OCSF asks what was authenticated to: a service, or a destination.
    service: { name: source.product.name, version: source.product.version },
    ...(source.record.targetType === 'session' && source.record.targetId ? { session: { uid: source.record.targetId } } : {}),
  }),
  account_change: (source) => ({ ...requestContext(source), user: subjectUser(source) }),
  user_access: (source) => ({ ...requestContext(source), user: subjectUser(source), privileges: [] }),
  entity_management: (source) => ({ ...requestContext(source), entity: targetEntity(source) }),
  api_activity: (source) => {
    const { record, product } = source;
    return {
      ...requestContext(source),
      // Required: with no address, the request came from within Vigil (a job, the command line).
      src_endpoint: record.ip ? { ip: record.ip } : { name: product.name },
      api: { operation: record.action },
      ...(record.targetId ? { resources: [compact({ uid: record.targetId, type: record.targetType })] } : {}),
    };
  },
  detection_finding: (source) => {
    const { record, meaning, details } = source;
    keepOutside(source);
    const rule = details.text('rule');
    const ip = details.text('ip');
    const evidenceSeqs = Array.isArray(record.details.evidenceSeqs) ? details.take('evidenceSeqs') : undefined;
    const analytic = rule ? { name: rule, type_id: 1, type: 'Rule' } : undefined;
    return {
      is_alert: true,
      finding_info: compact({ uid: record.id, title: rule ?? record.action, desc: meaning.description, analytic }),
      ...(ip || evidenceSeqs ? { evidences: [compact({ src_endpoint: ip ? { ip } : undefined, data: evidenceSeqs ? { evidenceSeqs } : undefined })] } : {}),
    };
  },
  remediation_activity: (source) => {
    keepOutside(source);
    // The lockdown's own entry is the remediation command.
    return compact({ command_uid: source.record.id, actor: actorOf(source) });
  },
};

/** Who acted, and from where, for the classes that carry it. */
function requestContext(source: Source): OcsfEvent {
  const { ip, userAgent } = source.record;
  return compact({ actor: actorOf(source), src_endpoint: ip ? { ip } : undefined, http_request: userAgent ? { user_agent: userAgent } : undefined });
}

/** A class with no place for the target or the request's origin: they stay, in `unmapped`. */
function keepOutside({ record, details }: Source): void {
  if (record.targetId) details.keep('target', { type: record.targetType, uid: record.targetId });
  if (record.ip) details.keep('ip', record.ip);
  if (record.userAgent) details.keep('user_agent', record.userAgent);
}

function actorOf({ record, product, details }: Source): OcsfEvent | undefined {
  if (record.actorType === 'system') return { app_name: product.name };
  if (!record.actorId) return undefined;
  const session = record.sessionId ? { session: { uid: record.sessionId } } : {};
  if (record.actorType === 'operator') return { user: { uid: record.actorId, type_id: 2, type: 'Admin' }, ...session };
  // An API key acts for its creator: the user is the creator, the key their credential.
  const credentialUid = record.actorType === 'api_key' ? details.text('apiKeyId') : null;
  return { user: compact({ uid: record.actorId, type_id: 1, type: 'User', credential_uid: credentialUid }), ...session };
}

/** The user an authentication or an account change is about: the target user, the session's owner, or whoever acted. */
function subjectUser(source: Source): OcsfEvent {
  const { record, details } = source;
  const targetUser = record.targetType === 'user' || record.targetType === 'operator' ? userIdentified(record.targetId, record.targetType === 'operator') : undefined;
  const subject = targetUser ?? userIdentified(details.text('userId'), false) ?? (actorOf(source)?.user as OcsfEvent | undefined);
  // Vigil's accounts sign in with their email: it is the user's name.
  const email = details.text('email');
  // An attempt that named no account still needs a user: OCSF requires one, known by a uid or a name.
  if (!subject && !email) return { name: 'unknown', type_id: 0, type: 'Unknown' };
  return compact({ ...subject, name: email, email_addr: email });
}

function userIdentified(uid: string | null, operator: boolean): OcsfEvent | undefined {
  if (!uid) return undefined;
  return operator ? { uid, type_id: 2, type: 'Admin' } : { uid, type_id: 1, type: 'User' };
}

function targetEntity({ record, details }: Source): OcsfEvent {
  const organization = record.targetType === 'tenant' ? { type_id: 4, type: 'Organization' } : { type: record.targetType };
  return compact({ uid: record.targetId, name: details.text('name'), ...organization });
}

/** Moves the details fields the mapping places, then sets what the action implies. */
function place(event: OcsfEvent, mapping: OcsfMapping, details: Details): void {
  for (const [field, paths] of Object.entries(mapping.place ?? {})) {
    if (!details.has(field)) continue;
    const value = details.take(field);
    for (const path of [paths].flat()) setPath(event, path, value);
  }
  for (const [path, value] of Object.entries(mapping.set ?? {})) setPath(event, path, value);
}

/** The record's details as they are placed: what remains, with what was kept aside, is `unmapped`. */
class Details {
  private readonly remaining: Record<string, unknown>;
  private readonly taken: Record<string, unknown> = {};
  private readonly kept: Record<string, unknown> = {};

  constructor(details: Record<string, unknown>) {
    this.remaining = { ...details };
  }

  has(field: string): boolean {
    return Object.hasOwn(this.remaining, field) || Object.hasOwn(this.taken, field);
  }

  /** The field's value, from now on out of `unmapped` (taking it twice gives it twice). */
  take(field: string): unknown {
    if (Object.hasOwn(this.remaining, field)) {
      this.taken[field] = this.remaining[field];
      delete this.remaining[field];
    }
    return this.taken[field];
  }

  /** A field that is text, taken; anything else stays where it is. */
  text(field: string): string | null {
    const value = Object.hasOwn(this.taken, field) ? this.taken[field] : this.remaining[field];
    return typeof value === 'string' && value !== '' ? (this.take(field) as string) : null;
  }

  keep(name: string, value: unknown): void {
    this.kept[name] = value;
  }

  unmapped(): OcsfEvent {
    return { ...this.kept, ...(Object.keys(this.remaining).length ? { details: this.remaining } : {}) };
  }
}

function compact(object: Record<string, unknown>): OcsfEvent {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null));
}

/** Sets a dotted path ("resources.0.uid"), making objects on the way, or arrays where the next key is a number. */
function setPath(event: OcsfEvent, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = event;
  keys.slice(0, -1).forEach((key, at) => {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = /^\d+$/.test(keys[at + 1]) ? [] : {};
    node = node[key] as OcsfEvent;
  });
  node[keys[keys.length - 1]] = value;
}
