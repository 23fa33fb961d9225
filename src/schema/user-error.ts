import { type UserError, USER_ERROR_CODES } from '../errors/error-codes.ts';
import { builder } from './builder.ts';

/**
 * The codes a `userErrors` entry may carry. The contract fixes `UserError.code` as `String!`, so
 * this enum is not the field's type: it is in the schema so that clients can read the codes, with
 * their meanings, from the SDL and generate types from it.
 */
builder.enumType('UserErrorCode', {
  description: 'Every code a `UserError` may carry (`UserError.code` is a String whose value is one of these).',
  values: Object.fromEntries(Object.entries(USER_ERROR_CODES).map(([code, meaning]) => [code, { description: meaning }])) as {
    [K in keyof typeof USER_ERROR_CODES]: { description: string };
  },
});

/** The shape of every `userErrors` entry: a mistake in a mutation's input that the user can fix. */
export const UserErrorRef = builder.objectRef<UserError>('UserError').implement({
  description: 'A mistake in the input that the user can fix; `code` is stable, `message` is for people.',
  fields: (t) => ({
    field: t.exposeStringList('field', { nullable: true, description: 'The path to the input field at fault, if one is.' }),
    message: t.exposeString('message', { description: 'What is wrong, in words a reader can act on.' }),
    code: t.exposeString('code', {
      description: 'A stable code, one of the values of the enum `UserErrorCode` (which lists them with their meanings).',
    }),
  }),
});
