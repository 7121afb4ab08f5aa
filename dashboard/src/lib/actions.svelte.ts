import { gql } from './api.ts';

/** One action of the audit vocabulary, as the API describes it (query auditActions). */
export interface AuditActionInfo {
  action: string;
  description: string;
  alert: boolean;
  /** The overview's count it is part of, if any. */
  attention: string | null;
}

/**
 * The audit vocabulary, read from the API once per signed-in page: the filters' suggestions and the
 * alert highlights come from the server's catalogue, never from a copy kept here.
 */
export const catalogue = $state({ actions: [] as AuditActionInfo[], alerts: [] as string[], loaded: false });

let loading: Promise<void> | null = null;

export function loadCatalogue(): Promise<void> {
  loading ??= gql<{ auditActions: AuditActionInfo[] }>('query AuditActions { auditActions { action description alert attention } }').then(
    (data) => {
      catalogue.actions = data.auditActions;
      catalogue.alerts = data.auditActions.filter((a) => a.alert).map((a) => a.action);
      catalogue.loaded = true;
    },
    () => {
      // Highlights and suggestions are a help, not the journal itself: try again on the next page.
      loading = null;
    },
  );
  return loading;
}

/** The actions behind one of the overview's counts. */
export function attentionActions(group: string): string[] {
  return catalogue.actions.filter((a) => a.attention === group).map((a) => a.action);
}

/** Events a security officer must not miss: an alert action of the catalogue, or anything denied. */
export function isAlert(event: { action: string; outcome: string }): boolean {
  return catalogue.alerts.includes(event.action) || event.outcome === 'DENIED';
}
