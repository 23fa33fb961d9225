import { domainToASCII } from 'node:url';
import type { UserErrorCode } from './errors/error-codes.ts';

export type EmailProblem = Extract<UserErrorCode, 'EMAIL_INVALID' | 'EMAIL_TOO_LONG'>;

/**
 * An e-mail address in the form subscriptions compare: trimmed, its domain lower-cased (and
 * internationalised domains in their ASCII form); the local part is kept as given, since mail
 * servers may treat its case as significant.
 */
export function normalizeEmail(raw: string): { email: string } | { problem: EmailProblem } {
  const trimmed = raw.trim();
  if (trimmed.length > 254) return { problem: 'EMAIL_TOO_LONG' };
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) return { problem: 'EMAIL_INVALID' };
  const local = trimmed.slice(0, at);
  const domain = domainToASCII(trimmed.slice(at + 1).toLowerCase());
  if (local.length > 64) return { problem: 'EMAIL_TOO_LONG' };
  // RFC 5322 dot-atom for the local part; quoted local parts are refused, as most senders do.
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) {
    return { problem: 'EMAIL_INVALID' };
  }
  if (domain === '' || domain.length > 253 || !/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(domain)) {
    return { problem: 'EMAIL_INVALID' };
  }
  return { email: `${local}@${domain}` };
}
