import { hashSecret, newSecret } from '../tokens.ts';

const TOKEN = /^vgl_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

const compact = (id: string) => id.replaceAll('-', '');
const expand = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

/** `vgl_<keyId>_<256-bit secret>`: the prefix makes leaked keys easy to spot and to scan for. */
export function mintApiKey(id: string): { token: string; secretHash: string; prefix: string } {
  const secret = newSecret();
  return { token: `vgl_${compact(id)}_${secret}`, secretHash: hashSecret(secret), prefix: displayPrefix(id) };
}

export function displayPrefix(id: string): string {
  return `vgl_${compact(id).slice(0, 8)}`;
}

export function readApiKey(token: string): { id: string; secretHash: string } | null {
  const match = TOKEN.exec(token);
  return match ? { id: expand(match[1]), secretHash: hashSecret(match[2]) } : null;
}
