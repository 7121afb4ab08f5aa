import { createTransport } from 'nodemailer';

/** One notice, as the notifier hands it over: every recipient in To, fixed text in the subject. */
export interface Mail {
  to: ReadonlyArray<{ name: string; address: string }>;
  subject: string;
  text: string;
  /** Derived from the journal event: a mail sent again after a crash is recognisably the same one. */
  messageId: string;
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the mail for at least one recipient; `rejected`: how many it refused. */
  send(mail: Mail): Promise<{ rejected: number }>;
  close(): void;
}

/** SMTP waits, bounded: a mail goes out, or fails, well within the notifier's lease of the company. */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, dnsTimeout: 10_000 };

/**
 * Mail through SMTP_URL (nodemailer: smtp:// with STARTTLS when offered, ?requireTLS=true to insist,
 * smtps:// for TLS at once; the certificate is checked), from MAIL_FROM. One connection per mail: notices
 * are rare, and a broken connection never outlives a mail. Nothing is read from files or URLs.
 */
export function createMailer(smtpUrl: string, from: string): Mailer {
  const transport = createTransport({ url: smtpUrl, ...TIMEOUTS, disableFileAccess: true, disableUrlAccess: true });
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from,
        to: mail.to.map((r) => ({ name: r.name, address: r.address })),
        subject: mail.subject,
        text: mail.text,
        messageId: mail.messageId,
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
      });
      return { rejected: info.rejected.length };
    },
    close: () => transport.close(),
  };
}

/** The domain of the From address, for the Message-ID. */
export function mailDomain(from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  return address.slice(address.lastIndexOf('@') + 1).trim().toLowerCase() || 'vigil.invalid';
}

/**
 * Permanent: the server refused this very mail for good (a 5xx to its recipients or its content); sending it
 * again would get the same answer, so it is given up after a few tries. Anything else about SMTP (down,
 * timing out, a 4xx, refused credentials) is the server's state, not the mail's: retried until it goes out.
 * An error that is not SMTP's at all (a bug composing it) is permanent too: it would repeat.
 */
export function failureIsPermanent(error: unknown): boolean {
  const { code, permanent } = (error ?? {}) as { code?: string; permanent?: boolean };
  if (code === 'EENVELOPE' || code === 'EMESSAGE') return permanent === true;
  return typeof code !== 'string';
}
