/** What the dashboard reads of journal events (which actions mean trouble comes from the API: actions.svelte.ts). */

export const EVENT_FIELDS = `id seq occurredAt action outcome actorType actorId actor { id email displayName }
  targetType targetId ip userAgent sessionId details`;

export function actorLabel(event: { actorType: string; actor: { displayName: string; email: string } | null; actorId: string | null }): string {
  if (event.actor) return `${event.actor.displayName} <${event.actor.email}>`;
  if (event.actorType === 'API_KEY') return `API key ${event.actorId ?? ''}`.trim();
  if (event.actorType === 'OPERATOR') return `Platform support ${event.actorId ?? ''}`.trim();
  return event.actorType === 'SYSTEM' ? 'Vigil' : 'anonymous';
}
