import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks (standardwebhooks.com): `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature` over `id.timestamp.body`, with two schemes side by side: `v1,` HMAC-SHA256 under the
 * endpoint's `whsec_` secret (the standardwebhooks library signs it, receivers verify it with theirs), and
 * `v1a,` Ed25519 under the endpoint's own key, whose `whpk_` public half a receiver may check instead (it then
 * holds nothing that could forge a delivery).
 */
export interface EndpointKeys {
  secret: string;
  signingKeyPem: string;
  publicKey: string;
}

export function newEndpointKeys(): EndpointKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x!;
  return {
    secret: `whsec_${randomBytes(32).toString('base64')}`,
    signingKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: `whpk_${Buffer.from(raw, 'base64url').toString('base64')}`,
  };
}

export type HeaderSigner = (id: string, at: Date, body: string) => Record<string, string>;

/** The headers of a delivery, from keys prepared once (the secret decoded, the private key parsed). */
export function headerSigner(keys: Omit<EndpointKeys, 'publicKey'>): HeaderSigner {
  const hmac = new Webhook(keys.secret);
  const privateKey = createPrivateKey(keys.signingKeyPem);
  return (id, at, body) => {
    const timestamp = Math.floor(at.getTime() / 1000);
    const ed25519 = sign(null, Buffer.from(`${id}.${timestamp}.${body}`), privateKey).toString('base64');
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `${hmac.sign(id, at, body)} v1a,${ed25519}`,
    };
  };
}
