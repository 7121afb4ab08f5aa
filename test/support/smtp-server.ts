import { SMTPServer } from 'smtp-server';
import { freePort } from './ports.ts';

/** One mail as the SMTP server received it: the envelope, the raw message, its headers and its decoded text. */
export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  /** Header names in lower case, folded lines unfolded. */
  headers: Map<string, string>;
  subject: string;
  messageId: string;
  text: string;
}

export interface SmtpServer {
  readonly port: number;
  /** smtp://127.0.0.1:<port> */
  readonly url: string;
  readonly mails: ReceivedMail[];
  /** Refuses (554, for good) every message whose text includes this, from now on. */
  refuseContaining(needle: string | null): void;
  /** Stops listening: connections are refused, as from a server that is down. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/**
 * A real SMTP server in this process (the smtp-server package), on 127.0.0.1 at a free port, without
 * authentication or STARTTLS, keeping every mail it accepts.
 */
export async function startSmtpServer(): Promise<SmtpServer> {
  const mails: ReceivedMail[] = [];
  let refused: string | null = null;
  const port = await freePort();
  let server: SMTPServer | null = null;
  const listen = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const mail = parseMail(Buffer.concat(chunks).toString('utf8'), session.envelope);
          if (refused !== null && mail.text.includes(refused)) return callback(Object.assign(new Error('Message refused by policy'), { responseCode: 554 }));
          mails.push(mail);
          callback();
        });
      },
    });
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => resolve());
    });
  };
  await listen();
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    refuseContaining: (needle) => void (refused = needle),
    async stop() {
      const closing = server;
      server = null;
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: listen,
  };
}

type Envelope = { mailFrom: { address: string } | false; rcptTo: Array<{ address: string }> };

function parseMail(raw: string, envelope: Envelope): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = raw.slice(split + 4);
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const text = encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return {
    envelopeFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
    envelopeTo: envelope.rcptTo.map((r) => r.address),
    raw,
    headers,
    subject: headers.get('subject') ?? '',
    messageId: headers.get('message-id') ?? '',
    text: text.replace(/\r\n/g, '\n'),
  };
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
