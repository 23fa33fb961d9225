import type { Plugin } from 'graphql-yoga';
import { CONFIRM_PATH, escapeHtml, UNSUBSCRIBE_PATH } from '../../mail/messages.ts';
import { userError } from '../../errors/error-codes.ts';
import { confirmSignUp, describeToken, type TokenResult, unsubscribe } from '../../sign-ups/sign-ups.ts';
import type { Logger } from '../../logger.ts';
import { storeFault } from '../../store/errors.ts';
import type { Store } from '../../store/store.ts';

const MAX_FORM_BYTES = 4096;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // The token is in the address: keep it out of Referer headers, frames and caches.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font-size:1rem;padding:.6rem 1.2rem}</style>
</head><body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>`;
}

/** The form that does the work: a GET only shows it, because mail scanners follow links. */
function form(action: string, token: string, label: string): string {
  return `<form method="post" action="${action}"><input type="hidden" name="token" value="${escapeHtml(token)}"><button type="submit">${escapeHtml(label)}</button></form>`;
}

async function tokenFrom(request: Request, url: URL): Promise<string | null> {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null) return fromQuery;
  const type = request.headers.get('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return null;
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length > MAX_FORM_BYTES) return null;
  const text = await request.text();
  return text.length > MAX_FORM_BYTES ? null : new URLSearchParams(text).get('token');
}

/**
 * The pages that links in messages open: `/subscriptions/confirm` shows a button whose POST
 * confirms; `/subscriptions/unsubscribe` shows one whose POST unsubscribes, and takes the
 * one-click POST of RFC 8058 (`List-Unsubscribe=One-Click`) at the same address.
 */
export function useSubscriptionPages(store: Store, logger: Logger): Plugin {
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      const path = url.pathname;
      if (path !== CONFIRM_PATH && path !== UNSUBSCRIBE_PATH) return;
      const respond = (status: number, title: string, body: string, headers: Record<string, string> = {}) =>
        endResponse(new fetchAPI.Response(page(title, body), { status, headers: { ...PAGE_HEADERS, ...headers } }));
      const confirming = path === CONFIRM_PATH;
      const failure = (result: { userErrors: Array<{ message: string }> }) =>
        respond(
          400,
          confirming ? 'We could not confirm this sign-up' : 'We could not unsubscribe you',
          `<p>${escapeHtml(result.userErrors[0]?.message ?? 'This link is not valid.')}</p>`,
        );
      try {
        await answer();
      } catch (error) {
        const fault = storeFault(error);
        if (fault) {
          logger.warn(`store ${fault} on ${path}:`, error);
          respond(503, 'Please try again shortly', '<p>We cannot reach our records right now. Please try the link again in a minute.</p>', {
            'retry-after': '5',
          });
        } else {
          logger.error(`internal error on ${path}:`, error);
          respond(500, 'Something went wrong', '<p>Something went wrong on our side. Please try the link again later.</p>');
        }
      }

      async function answer(): Promise<void> {
        const now = new Date().toISOString();

        if (request.method === 'GET' || request.method === 'HEAD') {
          const token = url.searchParams.get('token') ?? '';
          const found = await describeToken(store, token, confirming ? 'confirm' : 'unsubscribe', now);
          if ('userErrors' in found) return failure(found);
          const name = escapeHtml(found.newsletter.name);
          return confirming
            ? respond(
                200,
                `Confirm your subscription`,
                `<p>Press the button to receive <strong>${name}</strong> at ${escapeHtml(found.subscription.email)}.</p>\n${form('confirm', token, 'Confirm my subscription')}`,
              )
            : respond(
                200,
                'Unsubscribe',
                `<p>Press the button to stop receiving <strong>${name}</strong> at ${escapeHtml(found.subscription.email)}.</p>\n${form('unsubscribe', token, 'Unsubscribe')}`,
              );
        }
        if (request.method !== 'POST') {
          return respond(405, 'Method not allowed', '<p>This page answers GET and POST.</p>', { allow: 'GET, HEAD, POST' });
        }
        const token = await tokenFrom(request, url);
        const result: TokenResult =
          token === null
            ? { userErrors: [userError('TOKEN_INVALID', 'The request carried no token.', ['token'])] }
            : confirming
              ? await confirmSignUp(store, token, now)
              : await unsubscribe(store, token, now);
        if ('userErrors' in result) return failure(result);
        return confirming
          ? respond(200, 'You are subscribed', '<p>Thank you: your subscription is confirmed.</p>')
          : respond(200, 'You are unsubscribed', '<p>You will receive no more of these e-mails.</p>');
      }
    },
  };
}
