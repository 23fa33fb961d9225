import { GraphQLError } from 'graphql';

/** A request that cannot be answered as asked: shown to the client with code BAD_USER_INPUT. */
export function badUserInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}
