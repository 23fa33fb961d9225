import type { OutboxKind } from '../store/database.ts';
import type { Newsletter } from '../store/model.ts';

export interface MessageLinks {
  /** The confirmation page, for a confirmation message. */
  confirmUrl: string | null;
  /** The one-click unsubscribe endpoint (RFC 8058), also a page for people. */
  unsubscribeUrl: string;
}

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

export const CONFIRM_PATH = '/subscriptions/confirm';
export const UNSUBSCRIBE_PATH = '/subscriptions/unsubscribe';

export function linkTo(publicUrl: string, path: string, token: string): string {
  return `${publicUrl}${path}?token=${encodeURIComponent(token)}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function hours(ms: number): string {
  const count = Math.round(ms / 3_600_000);
  return count === 1 ? '1 hour' : `${count} hours`;
}

/** The e-mail for a queued message: plain text and HTML alike, with RFC 8058 one-click headers. */
export function composeMessage(
  kind: OutboxKind,
  options: { from: string; to: string; newsletter: Newsletter; links: MessageLinks; confirmTtlMs: number; listHost: string },
): MailMessage {
  const { newsletter, links } = options;
  let subject: string;
  let paragraphs: Array<string | { link: string; label: string }>;
  if (kind === 'confirm' && links.confirmUrl !== null) {
    subject = `Confirm your subscription to ${newsletter.name}`;
    paragraphs = [
      `Someone, we hope you, asked to receive ${newsletter.name} at this address.`,
      'To confirm, open this link and press the button on the page:',
      { link: links.confirmUrl, label: `Confirm my subscription to ${newsletter.name}` },
      `The link works for ${hours(options.confirmTtlMs)}. If you did not ask for this, ignore this e-mail: you will not hear from us again.`,
    ];
  } else {
    subject = `You are already subscribed to ${newsletter.name}`;
    paragraphs = [
      `Someone asked to sign this address up to ${newsletter.name}. You are subscribed already, so nothing has changed.`,
      'If that was not you, there is nothing to do.',
    ];
  }
  paragraphs.push('To stop receiving these e-mails:', { link: links.unsubscribeUrl, label: 'Unsubscribe' });

  const text = paragraphs.map((p) => (typeof p === 'string' ? p : p.link)).join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    ...paragraphs.map((p) => (typeof p === 'string' ? `<p>${escapeHtml(p)}</p>` : `<p><a href="${escapeHtml(p.link)}">${escapeHtml(p.label)}</a></p>`)),
    '</body></html>',
  ].join('\n');
  return {
    from: options.from,
    to: options.to,
    subject,
    text,
    html,
    headers: {
      'List-Id': `${newsletter.name.replace(/[^\x20-\x7e]|[<>"]/g, '')} <${newsletter.slug}.${options.listHost}>`,
      'List-Unsubscribe': `<${links.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}
