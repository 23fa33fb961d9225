import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type nodemailer from 'nodemailer';
import type { MailConfig } from '../config.ts';
import { ensureFolder } from '../folders.ts';
import type { MailMessage } from './messages.ts';

export interface MailTransport {
  /** Where mail goes, for the log: the SMTP host or the folder. */
  readonly description: string;
  send(message: MailMessage): Promise<{ messageId: string | null }>;
  close(): void;
}

/** Whether a delivery failure is final: the SMTP server refused the message for good (5xx). */
export function isPermanentFailure(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

// nodemailer (about 650 KB of source) is loaded when the first message is sent, not at start: a
// server whose readers never sign up, or that runs with MAIL_SENDER=off, never loads it. It is
// CommonJS, so `require` is synchronous.
const require = createRequire(import.meta.url);
const mailer = (): typeof nodemailer => require('nodemailer') as typeof nodemailer;
type Transporter = ReturnType<typeof nodemailer.createTransport>;

const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** SMTP when `SMTP_URL` is set; otherwise each message is written to the mail folder as an .eml file. */
export function createMailTransport(config: MailConfig): MailTransport {
  if (config.smtpUrl !== null) {
    const url = new URL(config.smtpUrl);
    const smtpUrl = config.smtpUrl;
    let transporter: Transporter | null = null;
    return {
      description: `SMTP server ${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`,
      async send(message) {
        transporter ??= mailer().createTransport({ url: smtpUrl, ...TIMEOUTS } as Parameters<typeof nodemailer.createTransport>[0]);
        const info = await transporter.sendMail(message);
        return { messageId: typeof info.messageId === 'string' ? info.messageId : null };
      },
      close: () => transporter?.close(),
    };
  }
  let streamer: Transporter | null = null;
  return {
    description: `the folder ${config.dir}`,
    async send(message) {
      streamer ??= mailer().createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      const info = await streamer.sendMail(message);
      ensureFolder(config.dir);
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`;
      // Written whole, then renamed: a reader of the folder never sees half a message.
      const partial = path.join(config.dir, `.${name}.partial`);
      await fs.writeFile(partial, info.message as Buffer);
      await fs.rename(partial, path.join(config.dir, name));
      return { messageId: typeof info.messageId === 'string' ? info.messageId : null };
    },
    close() {},
  };
}
