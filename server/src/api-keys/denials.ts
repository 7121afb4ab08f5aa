import type { Context } from '../context.ts';
import { asViewer } from '../unit-of-work.ts';

/** Journals, once per operation, the fields an API key asked for beyond its scope (api_key.denied). */
export async function journalDenials(ctx: Context): Promise<void> {
  const viewer = ctx.viewer;
  if (viewer?.kind !== 'api_key' || !ctx.denials.length) return;
  const fields = [...new Set(ctx.denials.splice(0))];
  await asViewer(ctx, async ({ journal }, denied) => {
    for (const field of denied) {
      await journal.record({ action: 'api_key.denied', outcome: 'denied', target: { type: 'api_key', id: viewer.apiKeyId }, details: { field } });
    }
  }, fields);
}
