import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface IssueOptions {
  commonName: string;
  /** subjectAltName DNS entries, e.g. ['localhost']. Clients check these, not the CN. */
  dnsNames?: string[];
  /** subjectAltName IP entries, e.g. ['127.0.0.1']. */
  ipAddresses?: string[];
  /** Base name of the files in the CA's directory; defaults to one made from the CN. */
  name?: string;
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
  /** Uppercase hex without colons, as `tlsSocket.getPeerCertificate().serialNumber` shows it. */
  serial: string;
}

export interface CertificateAuthority {
  dir: string;
  /** The CA certificate (PEM): what a client trusts. */
  caFile: string;
  issue(options: IssueOptions): Promise<IssuedCertificate>;
  /** Removes the directory, if this CA created it. */
  destroy(): Promise<void>;
}

// Two days, so a test running across midnight (or on a slightly skewed clock) still sees a valid certificate.
const VALIDITY_DAYS = '2';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'];

// Our own config, not the system openssl.cnf: its default x509_extensions would be added
// next to ours and OpenSSL 3.0 refuses duplicate extensions.
const CA_CONFIG = `[req]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[dn]
CN = Vigil Test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`;

/** A fresh self-signed CA (EC P-256) in `dir`, or in a new temp directory. */
export async function makeCertificateAuthority(dir?: string): Promise<CertificateAuthority> {
  const ownsDir = dir === undefined;
  const caDir = dir ?? (await mkdtemp(join(tmpdir(), 'vigil-ca-')));
  await mkdir(caDir, { recursive: true });
  const caFile = join(caDir, 'ca.crt');
  const caKeyFile = join(caDir, 'ca.key');
  const configFile = join(caDir, 'ca.cnf');
  await writeFile(configFile, CA_CONFIG);
  const caSerial = randomSerial();
  await openssl(['req', '-x509', '-config', configFile, ...EC_KEY, '-keyout', caKeyFile, '-out', caFile,
    '-days', VALIDITY_DAYS, '-set_serial', `0x${caSerial}`]);
  await chmod(caKeyFile, 0o600);

  let issued = 0;
  return {
    dir: caDir,
    caFile,
    async issue(options) {
      issued += 1;
      const name = options.name ?? `leaf-${issued}-${options.commonName.replace(/[^A-Za-z0-9.-]/g, '_')}`;
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`certificate name not usable as a file name: ${name}`);
      const certFile = join(caDir, `${name}.crt`);
      const keyFile = join(caDir, `${name}.key`);
      const csrFile = join(caDir, `${name}.csr`);
      const extFile = join(caDir, `${name}.ext`);
      await writeFile(extFile, leafExtensions(options));
      await openssl(['req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${escapeSubject(options.commonName)}`]);
      await chmod(keyFile, 0o600);
      const serial = randomSerial();
      // x509 -req -extfile rather than -copy_extensions: the issuer decides the extensions, as a real CA would.
      await openssl(['x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKeyFile, '-set_serial', `0x${serial}`,
        '-days', VALIDITY_DAYS, '-extfile', extFile, '-out', certFile]);
      return { certFile, keyFile, serial };
    },
    async destroy() {
      if (ownsDir) await rm(caDir, { recursive: true, force: true });
    },
  };
}

function leafExtensions(options: IssueOptions): string {
  const names = [
    ...(options.dnsNames ?? []).map((dns) => {
      if (!/^[A-Za-z0-9*.-]+$/.test(dns)) throw new Error(`not a DNS name: ${dns}`);
      return `DNS:${dns}`;
    }),
    ...(options.ipAddresses ?? []).map((ip) => {
      if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
      return `IP:${ip}`;
    }),
  ];
  const lines = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    'extendedKeyUsage = serverAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
  if (names.length > 0) lines.push(`subjectAltName = ${names.join(', ')}`);
  return lines.join('\n') + '\n';
}

/**
 * 16 random bytes as uppercase hex. The first byte is kept in 0x10..0x7f: positive (a DER integer
 * with the top bit set would need a leading zero byte) and without a leading zero nibble, so the
 * string equals what Node prints for the certificate's serial.
 */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = 0x10 + (bytes[0] % 0x70);
  return bytes.toString('hex').toUpperCase();
}

/** In -subj, '/' separates fields, '+' joins them and '\' escapes the next character. */
function escapeSubject(value: string): string {
  return value.replace(/[\\/+=]/g, '\\$&');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}
