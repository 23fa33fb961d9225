import type { UserError } from '../sign-ups/sign-ups.ts';
import { builder } from './builder.ts';

/** The shape of every `userErrors` entry: a mistake in a mutation's input that the user can fix. */
export const UserErrorRef = builder.objectRef<UserError>('UserError').implement({
  description: 'A mistake in the input that the user can fix; `code` is stable, `message` is for people.',
  fields: (t) => ({
    field: t.exposeStringList('field', { nullable: true, description: 'The path to the input field at fault, if one is.' }),
    message: t.exposeString('message', { description: 'What is wrong, in words a reader can act on.' }),
    code: t.exposeString('code', {
      description:
        'A stable code: EMAIL_INVALID, EMAIL_TOO_LONG, NEWSLETTER_NOT_FOUND, INPUT_INVALID, RATE_LIMITED, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_USED; for webhook endpoints URL_INVALID, URL_REFUSED, EVENTS_INVALID, NAME_INVALID, WEBHOOK_ENDPOINT_NOT_FOUND.',
    }),
  }),
});
